"""Tests for domain.receiving_fast: a canonical event's record values, and None for anything the
general path must look at (pure: a fixed clock)."""

from __future__ import annotations

from typing import Any

import pytest

from nats_pubsub.domain.receiving import EVENT_FIELDS, inspect_message
from nats_pubsub.domain.receiving_fast import canonical_event
from tests.helpers.messages import EVENT, PAYMENT, SENT_NS, encode

NOW_NS = SENT_NS + 2_500_400


def _at(now: int) -> Any:
    return lambda: now


def test_canonical_event_gives_the_general_paths_values() -> None:
    """The values are, field for field, what `inspect_message` puts in the record."""
    data = encode(EVENT)
    values = canonical_event("events.test", "", data, _at(NOW_NS))
    assert values is not None
    accepted = inspect_message("events.test", data, "", NOW_NS)
    assert dict(zip(EVENT_FIELDS, values, strict=True)) == accepted.fields
    assert values[6] == 2.5  # latency in ms, rounded to the microsecond


def test_reply_is_kept_and_none_when_empty() -> None:
    """The reply subject is the last value (None without one)."""
    data = encode(EVENT)
    assert canonical_event("s", "inbox.1", data, _at(NOW_NS))[-1] == "inbox.1"  # type: ignore[index]
    assert canonical_event("s", "", data, _at(NOW_NS))[-1] is None  # type: ignore[index]


@pytest.mark.parametrize(
    "message",
    [
        {**EVENT, "timestamp": "2024-05-06T07:08:09.000000+00:00"},  # another timestamp form
        {**EVENT, "message_id": "pub-4"},  # id not {source}-{sequence}
        {**EVENT, "version": "1.1"},  # an unknown field: the general path warns about it
        {k: v for k, v in EVENT.items() if k != "source"},  # a field missing: invalid
        PAYMENT,
    ],
    ids=["foreign-timestamp", "other-id", "unknown-field", "missing-field", "payment"],
)
def test_anything_else_is_left_to_the_general_path(message: dict[str, Any]) -> None:
    """Not canonical: None, whatever the general path then decides."""
    assert canonical_event("events.test", "", encode(message), _at(NOW_NS)) is None


@pytest.mark.parametrize("data", [b"", b"not json", b"[1, 2]", b"\xff\xfe", b'{"a": 1'])
def test_garbage_is_none_not_an_error(data: bytes) -> None:
    """Bytes that are no event at all never raise."""
    assert canonical_event("events.test", "", data, _at(NOW_NS)) is None
