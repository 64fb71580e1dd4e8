"""Tests for nats_pubsub.domain.schema: building, encoding and decoding wire messages."""

from __future__ import annotations

import contextlib
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nats_pubsub.domain.events import EventFactory
from nats_pubsub.domain.schema import (
    DEFAULT_EVENT_TYPES,
    MAX_MESSAGE_ID_CHARS,
    MAX_SOURCE_CHARS,
    decode_event,
    decode_payment,
    encode,
)
from nats_pubsub.domain.timeutil import parse_timestamp_ns
from nats_pubsub.errors import InvalidMessageError
from tests.helpers.event_shapes import BASE_NS, INVALID_SHAPES, PEER_SHAPES, STAMP_FORMS

STAMP = "2024-05-06T07:08:09.123456Z"


def event(**changes: Any) -> dict[str, Any]:
    """A valid event message as a dict, with top-level `changes` applied."""
    message: dict[str, Any] = {
        "message_id": "pub-7",
        "timestamp": STAMP,
        "source": "pub",
        "sequence": 7,
        "data": {
            "event_type": "user.login",
            "value": 42,
            "random_field": "beta",
            "status": "success",
            "description": "User login event #7",
        },
    }
    message.update(changes)
    return message


def payload(message: dict[str, Any]) -> bytes:
    """Encode a dict as compact JSON bytes."""
    return json.dumps(message).encode()


def reason_of(data: bytes) -> str:
    """The InvalidMessageError reason decode_event gives for `data`."""
    with pytest.raises(InvalidMessageError) as info:
        decode_event(data)
    return info.value.reason


def test_encoded_field_order() -> None:
    """Encoded JSON keeps the wire field order at both levels."""
    decoded = json.loads(encode(EventFactory("pub", DEFAULT_EVENT_TYPES, seed=1).next(STAMP)))
    assert list(decoded) == ["message_id", "timestamp", "source", "sequence", "data"]
    assert list(decoded["data"]) == [
        "event_type",
        "value",
        "random_field",
        "status",
        "description",
    ]


def test_encoded_message_decodes() -> None:
    """A factory message survives encode/decode_event unchanged."""
    message = EventFactory("pub", DEFAULT_EVENT_TYPES, seed=1).next(STAMP)
    assert decode_event(encode(message)).message == message


def test_decode_valid_event() -> None:
    """A valid payload decodes with its timestamp in epoch ns and no unknown fields."""
    decoded = decode_event(payload(event()))
    assert decoded.message.message_id == "pub-7"
    assert decoded.message.data.value == 42
    assert decoded.timestamp_ns == parse_timestamp_ns(STAMP)
    assert decoded.unknown_fields == ()


def test_decode_event_without_random_field() -> None:
    """random_field is optional on receipt (pre-v1 peers) and decodes as None."""
    message = event()
    del message["data"]["random_field"]
    assert decode_event(payload(message)).message.data.random_field is None


def test_decode_event_lists_unknown_fields() -> None:
    """Unknown top-level and data fields are accepted and named 'x' / 'data.y'."""
    message = event(extra={"nested": [1]})
    message["data"]["colour"] = "red"
    decoded = decode_event(payload(message))
    assert decoded.unknown_fields == ("extra", "data.colour")
    assert decoded.message.data.description == "User login event #7"


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        pytest.param(b"", "not_json", id="empty"),
        pytest.param(b"garbage", "not_json", id="garbage"),
        pytest.param(b'{"message_id": ', "not_json", id="truncated"),
        pytest.param(b"[]", "not_object", id="array"),
        pytest.param(b"12", "not_object", id="number"),
        pytest.param(b'"text"', "not_object", id="string"),
        pytest.param(b"null", "not_object", id="null"),
        pytest.param(payload(event()).replace(b'"beta"', b'"b\xffta"'), "bad_utf8", id="utf8"),
        pytest.param(payload(event(data=[])), "schema", id="data-array"),
        pytest.param(
            payload(event(data={**event()["data"], "value": "42"})), "schema", id="value-str"
        ),
    ],
)
def test_decode_event_invalid_reasons(data: bytes, reason: str) -> None:
    """Each kind of malformed payload gets its bounded reason."""
    assert reason_of(data) == reason


@pytest.mark.parametrize("field", ["message_id", "timestamp", "source", "sequence", "data"])
def test_decode_event_missing_field_is_schema(field: str) -> None:
    """A missing required top-level field is a schema error."""
    message = event()
    del message[field]
    assert reason_of(payload(message)) == "schema"


@pytest.mark.parametrize("field", ["event_type", "value"])
def test_decode_event_missing_data_field_is_schema(field: str) -> None:
    """A missing required data field is a schema error."""
    message = event()
    del message["data"][field]
    assert reason_of(payload(message)) == "schema"


@pytest.mark.parametrize("fields", [("status",), ("description",), ("status", "description")])
def test_decode_event_optional_data_fields(fields: tuple[str, ...]) -> None:
    """status and description are optional on receipt (no upstream publisher sends them)."""
    message = event()
    for field in fields:
        del message["data"][field]
    decoded = decode_event(payload(message)).message.data
    assert [getattr(decoded, field) for field in fields] == [None] * len(fields)


@pytest.mark.parametrize("field", ["random_field", "status", "description"])
def test_decode_event_optional_null_is_absent(field: str) -> None:
    """A null optional field is taken as absent."""
    message = event()
    message["data"][field] = None
    assert getattr(decode_event(payload(message)).message.data, field) is None


@pytest.mark.parametrize("field", ["random_field", "status", "description"])
@pytest.mark.parametrize("value", [5, 1.5, True, [], {}])
def test_decode_event_optional_field_of_wrong_type_is_schema(field: str, value: object) -> None:
    """An optional field that is present must be a string."""
    message = event()
    message["data"][field] = value
    assert reason_of(payload(message)) == "schema"


UPSTREAM_VECTOR = (
    b'{"message_id":"test-1","timestamp":"2025-10-08T00:00:00.000Z","source":"test",'
    b'"sequence":1,"data":{"event_type":"user.login","value":100,"random_field":"test"}}'
)
CSHARP_EVENT = (
    b'{"message_id":"csharp-publisher-42","timestamp":"2025-10-09T01:15:30.1234567Z",'
    b'"source":"csharp-publisher","sequence":42,'
    b'"data":{"event_type":"user.login","value":523,"random_field":"alpha"}}'
)


def test_upstream_test_vector_is_valid() -> None:
    """The upstream's own valid test vector decodes, with its exact time."""
    decoded = decode_event(UPSTREAM_VECTOR)
    assert decoded.message.data.random_field == "test"
    assert decoded.timestamp_ns == 1_759_881_600 * 10**9


def test_upstream_csharp_event_is_valid() -> None:
    """An event exactly as the upstream C# publisher writes it decodes (7 fractional digits)."""
    decoded = decode_event(CSHARP_EVENT)
    assert decoded.message.data.status is None
    assert decoded.timestamp_ns == 1_759_972_530 * 10**9 + 123_456_700


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"timestamp": "2025-10-08"}, "bad_timestamp"),
        ({"sequence": "not-a-number"}, "schema"),
        ({"message_id": None}, "schema"),
        ({"data": None}, "schema"),
    ],
)
def test_upstream_invalid_vectors(change: dict[str, Any], reason: str) -> None:
    """The upstream's invalid cases: a bare date, a text sequence, missing fields."""
    message = json.loads(UPSTREAM_VECTOR)
    for key, value in change.items():
        if value is None:
            del message[key]
        else:
            message[key] = value
    assert reason_of(payload(message)) == reason


@pytest.mark.parametrize(
    ("field", "limit"), [("source", MAX_SOURCE_CHARS), ("message_id", MAX_MESSAGE_ID_CHARS)]
)
def test_decode_event_over_long_id_fields_are_too_long(field: str, limit: int) -> None:
    """source and message_id longer than their bound are rejected as too_long."""
    source = "s" * MAX_SOURCE_CHARS
    at_limit = event(source=source, message_id=f"{source}-7")
    assert decode_event(payload(at_limit)).message.source == source
    longer = "é" * (limit + 1)  # characters, not bytes
    message = event(**{field: longer})
    if field == "source":
        message["message_id"] = f"{longer}-7"
    assert reason_of(payload(message)) == "too_long"


def test_message_id_bound_fits_the_longest_source_and_sequence() -> None:
    """A 256-character source with a 20-digit sequence is still valid."""
    source, sequence = "s" * MAX_SOURCE_CHARS, 2**64 - 1
    message = event(source=source, sequence=sequence, message_id=f"{source}-{sequence}")
    assert decode_event(payload(message)).message.sequence == sequence


def test_decode_event_empty_source_is_schema() -> None:
    """An empty source is a schema error (a message_id of "-7" names no one)."""
    assert reason_of(payload(event(source="", message_id="-7"))) == "schema"


@pytest.mark.parametrize("sequence", [0, -1, True, 1.5, "7"])
def test_decode_event_bad_sequence_is_schema(sequence: object) -> None:
    """sequence must be a positive integer; 0, negatives, bools, floats and strings fail."""
    assert reason_of(payload(event(sequence=sequence, message_id=f"pub-{sequence}"))) == "schema"


@pytest.mark.parametrize("message_id", ["pub-8", "pub7", "other-7", ""])
def test_decode_event_wrong_message_id(message_id: str) -> None:
    """message_id other than source-sequence is bad_message_id."""
    assert reason_of(payload(event(message_id=message_id))) == "bad_message_id"


@pytest.mark.parametrize("stamp", ["2024-05-06", "2024-05-06T07:08:09", "yesterday", ""])
def test_decode_event_bad_timestamp(stamp: str) -> None:
    """An unparseable timestamp is bad_timestamp."""
    assert reason_of(payload(event(timestamp=stamp))) == "bad_timestamp"


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        pytest.param(b'{"extra": 1', "not_json", id="truncated"),
        pytest.param(b'{"extra": 1, "source": "\xff"}', "bad_utf8", id="bad-utf8"),
        pytest.param(b'{"extra": ' + b"[" * 100_000, "not_json", id="deep-nesting"),
    ],
)
def test_decode_event_unknown_field_then_malformed(data: bytes, reason: str) -> None:
    """Malformed JSON after an unknown field still raises InvalidMessageError."""
    assert reason_of(data) == reason


def test_decode_payment_unknown_field_then_truncated() -> None:
    """decode_payment also reports truncated JSON after an unknown field as not_json."""
    with pytest.raises(InvalidMessageError) as info:
        decode_payment(b'{"extra": 1')
    assert info.value.reason == "not_json"


def mutations() -> st.SearchStrategy[bytes]:
    """Truncations and byte substitutions of a valid payload carrying an unknown field."""
    base = payload({"extra": "x", **event()})
    cut = st.integers(0, len(base)).map(lambda n: base[:n])
    flip = st.tuples(st.integers(0, len(base) - 1), st.integers(0, 255)).map(
        lambda t: base[: t[0]] + bytes([t[1]]) + base[t[0] + 1 :]
    )
    return st.one_of(cut, flip)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.binary(max_size=300), mutations()))
def test_decode_event_only_raises_invalid_message_error(data: bytes) -> None:
    """decode_event raises nothing but InvalidMessageError for arbitrary bytes."""
    with contextlib.suppress(InvalidMessageError):
        decode_event(data)


ACCEPTED = {
    "transaction_id": "txn-1",
    "timestamp": STAMP,
    "source": "pay",
    "card_type": "visa",
    "last_four": "4242",
    "amount": 12.5,
    "currency": "EUR",
    "status": "accepted",
    "merchant_id": "m-1",
    "authorization_code": "A1B2",
}
DECLINED = {
    **{k: v for k, v in ACCEPTED.items() if k not in ("merchant_id", "authorization_code")},
    "status": "declined",
    "decline_reason": "insufficient_funds",
    "decline_code": "51",
}


@pytest.mark.parametrize("transaction", [ACCEPTED, DECLINED], ids=["accepted", "declined"])
def test_decode_payment_valid(transaction: dict[str, Any]) -> None:
    """Accepted and declined payment transactions decode with their timestamp."""
    decoded = decode_payment(payload(transaction))
    assert decoded.message.status == transaction["status"]
    assert decoded.message.decline_code == transaction.get("decline_code")
    assert decoded.message.authorization_code == transaction.get("authorization_code")
    assert decoded.timestamp_ns == parse_timestamp_ns(STAMP)
    assert decoded.unknown_fields == ()


def test_decode_payment_missing_field_is_schema() -> None:
    """A payment without an amount is a schema error."""
    transaction = {k: v for k, v in ACCEPTED.items() if k != "amount"}
    with pytest.raises(InvalidMessageError) as info:
        decode_payment(payload(transaction))
    assert info.value.reason == "schema"


# The finest unit each language's form keeps of the instant.
_UNIT_NS = {"csharp": 100, "go": 1, "js": 1_000_000, "python": 1000, "offset": 1000, "ours": 1000}


@pytest.mark.parametrize("form", STAMP_FORMS)
def test_peer_timestamp_forms_decode_to_their_instant(form: str) -> None:
    """Each language's timestamp form gives the instant it wrote, to the form's precision."""
    decoded = decode_event(payload(PEER_SHAPES[f"upstream-{form}"]))
    assert decoded.timestamp_ns == BASE_NS - BASE_NS % _UNIT_NS[form]


@pytest.mark.parametrize("name", PEER_SHAPES)
def test_peer_shapes_are_valid(name: str) -> None:
    """Every shape a peer sends decodes, without unknown fields."""
    assert decode_event(payload(PEER_SHAPES[name])).unknown_fields == ()


@pytest.mark.parametrize("name", INVALID_SHAPES)
def test_invalid_shapes_have_their_reason(name: str) -> None:
    """Hostile and broken shapes are rejected with their bounded reason."""
    message, reason = INVALID_SHAPES[name]
    assert reason_of(payload(message)) == reason
