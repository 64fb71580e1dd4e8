"""Tests for nats_pubsub.domain.capture_fast: the hot path logs exactly what capture() would."""

from __future__ import annotations

import io
import json
from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nats_pubsub.domain.capture import EXTRACTED_FIELDS, capture
from nats_pubsub.domain.capture_fast import (
    CAPTURED_FIELDS,
    capture_fast,
    capture_values,
    subject_is_error,
)
from nats_pubsub.logs import logger as logs
from nats_pubsub.logs.logger import Logger, LogSink
from tests.helpers.captures import EVENT, GARBAGE, LIMIT, TXN, json_values, logged_line
from tests.helpers.event_shapes import INVALID_SHAPES, PEER_SHAPES, events

_HEAD = ("timestamp", "module", "function")


def _record(level: str, fields: dict[str, Any]) -> dict[str, Any]:
    record = logged_line(level, fields)
    for key in _HEAD:
        record.pop(key)
    return record


def _assert_same(subject: str, data: bytes, headers: dict[str, str] | None = None) -> bool:
    """When the fast path answers, its record equals capture()'s; True if it answered."""
    fast = capture_fast(subject, "_INBOX.r", data, headers, LIMIT)
    if fast is None:
        return False
    slow = capture(subject, "_INBOX.r", data, headers, LIMIT)
    assert fast.level == slow.level
    assert _record(fast.level, fast.fields) == _record(slow.level, slow.fields)
    return True


@pytest.mark.parametrize("message", [TXN, EVENT, {**TXN, "status": "approved"}, {}])
def test_common_messages_take_the_fast_path(message: dict[str, Any]) -> None:
    """Payments, events and empty objects are captured by the fast path, as capture() would."""
    assert _assert_same("payments.card", json.dumps(message).encode())


def test_headers_are_recorded_on_the_fast_path() -> None:
    """Headers end up in the record as with capture()."""
    assert _assert_same("q", b'{"a": 1}', {"Nats-Msg-Id": "x"})


@pytest.mark.parametrize(
    "data",
    [
        json.dumps(TXN, indent=2).encode(),  # pretty-printed: one record must stay one line
        b'{"a": "\xff"}',  # invalid UTF-8 inside a string msgspec would skip unchecked
        b'{"a": 1e400}',  # out of range number msgspec would skip unchecked
        b'{"a": ' + b"1" * 400 + b"}",
        b'{"a":' * 40 + b"1" + b"}" * 40,  # deeper than the rendering limit
        b'{"status": {"code": 1}}',  # a known field that is not a scalar
        b'{"data": "text"}',
        b'{"status": "' + b"x" * 201 + b'"}',  # a known text capture() passes over
        b"[1, 2]",
        b"",
        b" {}",
    ],
)
def test_unusual_payloads_are_left_to_capture(data: bytes) -> None:
    """Payloads the fast path cannot vouch for return None (capture() decides)."""
    assert capture_fast("s", "", data, None, LIMIT) is None


def test_payload_over_the_limit_is_left_to_capture() -> None:
    """A payload longer than the limit is cut by capture(), not embedded whole."""
    assert capture_fast("s", "", json.dumps(TXN).encode(), None, 10) is None


@pytest.mark.parametrize(("name", "data", "level"), GARBAGE)
def test_garbage_corpus_agrees(name: str, data: bytes, level: str) -> None:
    """Every garbage payload is either left to capture() or logged exactly as it would."""
    _assert_same("garbage", data)


_field_values = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=250)
_objects = st.dictionaries(
    st.sampled_from([*EXTRACTED_FIELDS, "data", "other"]) | st.text(max_size=5),
    _field_values | json_values | st.dictionaries(st.sampled_from(EXTRACTED_FIELDS), _field_values),
    max_size=8,
)


@settings(max_examples=300)
@given(
    value=_objects,
    subject=st.sampled_from(["payments.card", "orders.failed", "a.ERROR.b", "x"]),
    spaced=st.booleans(),
)
def test_any_object_agrees_with_capture(value: dict[str, Any], subject: str, spaced: bool) -> None:
    """Generated JSON objects: the fast path's record is capture()'s record."""
    data = json.dumps(value, separators=(", ", ": ") if spaced else (",", ":")).encode()
    _assert_same(subject, data)


@settings(max_examples=300)
@given(data=st.binary(max_size=300))
def test_any_bytes_agree_with_capture(data: bytes) -> None:
    """Arbitrary bytes: the fast path never logs something capture() would not."""
    _assert_same("bytes", b"{" + data)


_LONG = "x" * 300
_RECORD_CASES = [
    ("payments.card", "", TXN, None),
    ("payments.card", "_INBOX.r", {**TXN, "status": "approved"}, None),
    ("events.user", "", EVENT, {"Nats-Msg-Id": "pub-1"}),
    ("orders.failed", "", {"status": "ok", "data": {"status": "declined"}}, None),
    ("a.ERROR.b", "r", {"message_id": None, "data": {"message_id": "m", "amount": 2}}, None),
    ("q", "", {"note": _LONG, "data": {"card_type": "Visa", "note": _LONG}}, {"a": "b"}),
    ("q", "", {"status": None, "amount": 12.5, "data": {"status": "failed"}}, None),
    ("q", "", {}, None),
]


@pytest.mark.parametrize(("subject", "reply", "message", "headers"), _RECORD_CASES)
def test_record_of_values_is_the_dict_records_line(
    subject: str,
    reply: str,
    message: dict[str, Any],
    headers: dict[str, str] | None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The monitor's record of capture_values is byte for byte the dict emitter's line."""
    monkeypatch.setattr(logs, "now_ns", lambda: 1_760_000_000_123_456_789)
    stream = io.BytesIO()
    log = Logger("nats-monitor", LogSink(stream))
    data = json.dumps(message).encode()
    fast = capture_values(subject, reply, data, headers, LIMIT)
    fields = capture_fast(subject, reply, data, headers, LIMIT)
    assert fast is not None
    assert fields is not None
    log.emitter(fast[0], "Message captured", "on_message")(fields.fields)
    log.record_emitter(fast[0], "Message captured", CAPTURED_FIELDS, "on_message")(*fast[1])
    log.flush()
    by_dict, by_values = stream.getvalue().splitlines(keepends=True)
    assert by_values == by_dict
    assert _assert_same(subject, data, headers)


@pytest.mark.parametrize(
    ("subject", "error"),
    [("payments.declined", True), ("a.Failed", True), ("errors.x", False), ("ok", False)],
)
def test_subject_is_error(subject: str, error: bool) -> None:
    """An error status as a whole subject token makes the subject an error one."""
    assert subject_is_error(subject) is error


@pytest.mark.parametrize("name", PEER_SHAPES)
def test_peer_shapes_take_the_fast_path_at_info(name: str) -> None:
    """Every peer's event is captured by the fast path at INFO, as capture() would."""
    data = json.dumps(PEER_SHAPES[name]).encode()
    assert _assert_same("events.test", data)
    captured = capture_fast("events.test", "", data, None, LIMIT)
    assert captured is not None
    assert captured.level == "INFO"
    assert captured.fields["payload"] == msgspec.Raw(data)


@pytest.mark.parametrize("name", INVALID_SHAPES)
def test_hostile_shapes_are_captured_as_capture_says(name: str) -> None:
    """Events the subscriber rejects are still captured at INFO, the same record either way
    (ids over 200 characters are left to capture(), which cuts them)."""
    data = json.dumps(INVALID_SHAPES[name][0]).encode()
    _assert_same("events.test", data)
    assert capture("events.test", "", data, None, LIMIT).level == "INFO"


@pytest.mark.parametrize("name", PEER_SHAPES)
def test_peer_shapes_extract_their_identity(name: str) -> None:
    """message_id and event_type are extracted from every valid peer shape."""
    message = PEER_SHAPES[name]
    captured = capture("events.test", "", json.dumps(message).encode(), None, LIMIT)
    assert captured.fields["message_id"] == message["message_id"]
    assert captured.fields["event_type"] == message["data"]["event_type"]


@settings(max_examples=300, deadline=None)
@given(message=events())
def test_generated_peer_shapes_agree_with_capture(message: dict[str, Any]) -> None:
    """Generated events with and without optional fields: the fast path's record is capture()'s."""
    _assert_same("events.test", json.dumps(message).encode())
