"""Property-based checks: the decode, validate and classify functions never raise the unexpected."""

from __future__ import annotations

import contextlib

from hypothesis import given, settings
from hypothesis import strategies as st

from nats_pubsub.domain.events import EventFactory
from nats_pubsub.domain.receiving import inspect_message, preview, rejection_fields
from nats_pubsub.domain.schema import encode
from nats_pubsub.domain.subjects import (
    subject_matches,
    validate_publish_subject,
    validate_subscribe_subject,
)
from nats_pubsub.domain.timeutil import now_timestamp, parse_timestamp_ns
from nats_pubsub.errors import InvalidMessageError

subjects = st.one_of(
    st.text(max_size=40),
    st.lists(st.sampled_from(["a", "b", "*", ">", "", "payments", "x y"]), max_size=6).map(
        ".".join
    ),
)


def _valid_event() -> bytes:
    return encode(EventFactory("p", ("user.login",)).next(now_timestamp()))


def _mutations() -> st.SearchStrategy[bytes]:
    base = _valid_event()
    cut = st.integers(0, len(base)).map(lambda n: base[:n])
    flip = st.tuples(st.integers(0, len(base) - 1), st.integers(0, 255)).map(
        lambda t: base[: t[0]] + bytes([t[1]]) + base[t[0] + 1 :]
    )
    return st.one_of(cut, flip)


@settings(max_examples=300, deadline=None)
@given(
    subject=st.sampled_from(["events.test", "payments.credit_card.accepted", "x"]),
    data=st.one_of(st.binary(max_size=300), _mutations()),
    reply=st.text(max_size=10),
    now=st.integers(-(2**63), 2**63 - 1),
)
def test_inspect_message_only_raises_invalid_message_error(
    subject: str, data: bytes, reply: str, now: int
) -> None:
    """inspect_message accepts or raises InvalidMessageError, for any bytes and any clock."""
    try:
        fields = inspect_message(subject, data, reply, now).fields
    except InvalidMessageError as exc:
        fields = rejection_fields(subject, data, exc)
    assert fields["size_bytes"] == len(data)


@given(st.binary(max_size=2000), st.integers(1, 300))
def test_preview_is_bounded_text(data: bytes, limit: int) -> None:
    """A preview is a str of at most limit + 1 characters (the ellipsis), for any bytes."""
    assert len(preview(data, limit)) <= limit + 1


@given(subjects)
def test_subject_validation_raises_only_value_error(subject: str) -> None:
    """Publish and subscribe validation return the subject or raise ValueError."""
    for validate in (validate_publish_subject, validate_subscribe_subject):
        with contextlib.suppress(ValueError):
            assert validate(subject) == subject


@given(subjects, subjects)
def test_subject_matches_is_total(pattern: str, subject: str) -> None:
    """Matching any pattern against any subject gives a bool."""
    assert isinstance(subject_matches(pattern, subject), bool)


@given(st.text(max_size=40))
def test_parse_timestamp_raises_only_value_error(text: str) -> None:
    """Any text is parsed or refused with ValueError."""
    with contextlib.suppress(ValueError):
        assert isinstance(parse_timestamp_ns(text), int)
