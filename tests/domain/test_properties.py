"""Property-based checks: the decode, validate and classify functions never raise the unexpected,
and matching and timestamp parsing agree with reference implementations."""

from __future__ import annotations

import contextlib
import re
from datetime import UTC, datetime, timedelta, timezone

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
    """Matching any pattern against any subject gives a bool, and never raises."""
    assert isinstance(subject_matches(pattern, subject), bool)


_TOKENS = st.sampled_from(["a", "b", "orders", "x1"])


@st.composite
def _valid_pattern(draw: st.DrawFn) -> str:
    tokens = draw(st.lists(st.one_of(_TOKENS, st.just("*")), min_size=1, max_size=5))
    if draw(st.booleans()):
        tokens.append(">")
    return ".".join(tokens)


def _reference_match(pattern: str, subject: str) -> bool:
    """NATS wildcards as a regular expression: `*` one token, a final `>` one or more."""
    parts = []
    for token in pattern.split("."):
        parts.append(
            r"[^.]+" if token == "*" else r"[^.]+(\.[^.]+)*" if token == ">" else re.escape(token)
        )
    return re.fullmatch(r"\.".join(parts), subject) is not None


@given(_valid_pattern(), st.lists(_TOKENS, min_size=1, max_size=7).map(".".join))
def test_subject_matches_agrees_with_a_reference(pattern: str, subject: str) -> None:
    """For valid patterns and subjects, matching equals the regular-expression reference."""
    assert subject_matches(pattern, subject) is _reference_match(pattern, subject)


@given(st.text(max_size=40))
def test_parse_timestamp_raises_only_value_error(text: str) -> None:
    """Any text is parsed or refused with ValueError."""
    with contextlib.suppress(ValueError):
        assert isinstance(parse_timestamp_ns(text), int)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@given(
    moment=st.datetimes(
        min_value=datetime(1900, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)
    ),
    nanos=st.integers(0, 999),
    digits=st.integers(0, 9),
    offset_minutes=st.integers(-23 * 60 - 59, 23 * 60 + 59),
    zulu=st.booleans(),
)
def test_parse_timestamp_agrees_with_datetime(
    moment: datetime, nanos: int, digits: int, offset_minutes: int, zulu: bool
) -> None:
    """Any instant, written with 0 to 9 fraction digits and any offset (or Z), parses to the
    epoch nanoseconds `datetime` computes for it (cut to the digits written)."""
    zone = UTC if zulu else timezone(timedelta(minutes=offset_minutes))
    local = moment.astimezone(zone)
    fraction = f"{local.microsecond:06d}{nanos:03d}"[:digits]
    offset = "Z" if zulu else local.strftime("%z")
    offset = offset if zulu else f"{offset[:3]}:{offset[3:]}"
    text = local.strftime("%Y-%m-%dT%H:%M:%S") + (f".{fraction}" if digits else "") + offset
    whole = (moment.replace(microsecond=0) - _EPOCH) // timedelta(seconds=1)
    expected = whole * 10**9 + (int(fraction.ljust(9, "0")) if digits else 0)
    assert parse_timestamp_ns(text) == expected, text
