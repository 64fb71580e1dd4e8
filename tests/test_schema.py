"""Tests for nats_pubsub.schema: building, encoding and decoding wire messages."""

from __future__ import annotations

import contextlib
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nats_pubsub.errors import InvalidMessageError
from nats_pubsub.schema import (
    DEFAULT_EVENT_TYPES,
    RANDOM_FIELD_VALUES,
    EventFactory,
    decode_event,
    decode_payment,
    describe_event_type,
    encode,
)
from nats_pubsub.timeutil import parse_timestamp_ns

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


def test_factory_numbers_from_one() -> None:
    """The first message has sequence 1 and each next one is one higher."""
    factory = EventFactory("pub", DEFAULT_EVENT_TYPES, seed=1)
    assert [factory.next(STAMP).sequence for _ in range(3)] == [1, 2, 3]


def test_factory_message_id_is_source_dash_sequence() -> None:
    """message_id is f'{source}-{sequence}'."""
    factory = EventFactory("host-a", DEFAULT_EVENT_TYPES, seed=1)
    factory.next(STAMP)
    message = factory.next(STAMP)
    assert (message.message_id, message.source, message.timestamp) == ("host-a-2", "host-a", STAMP)


def test_factory_description_names_type_and_sequence() -> None:
    """The description for user.login at sequence 42 is 'User login event #42'."""
    factory = EventFactory("pub", ("user.login",), seed=1)
    factory.sequence = 41
    assert factory.next(STAMP).data.description == "User login event #42"


def test_factory_random_values_in_range() -> None:
    """value is 1..1000, random_field is an allowed value and status is 'success'."""
    factory = EventFactory("pub", DEFAULT_EVENT_TYPES, seed=3)
    for _ in range(500):
        data = factory.next(STAMP).data
        assert 1 <= data.value <= 1000
        assert data.random_field in RANDOM_FIELD_VALUES
        assert data.status == "success"
        assert data.event_type in DEFAULT_EVENT_TYPES


def test_factory_needs_event_types() -> None:
    """An empty event type list is refused."""
    with pytest.raises(ValueError, match="event type"):
        EventFactory("pub", ())


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


@pytest.mark.parametrize(
    ("event_type", "text"),
    [
        ("user.login", "User login"),
        ("order.created", "Order created"),
        ("payment_processed", "Payment processed"),
        ("user-signed-up", "User signed up"),
        ("LOGIN", "Login"),
        ("", "Event"),
        ("...", "Event"),
    ],
)
def test_describe_event_type(event_type: str, text: str) -> None:
    """Separators become spaces and the first letter is capitalised."""
    assert describe_event_type(event_type) == text


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


@pytest.mark.parametrize("field", ["event_type", "value", "status", "description"])
def test_decode_event_missing_data_field_is_schema(field: str) -> None:
    """A missing required data field is a schema error."""
    message = event()
    del message["data"][field]
    assert reason_of(payload(message)) == "schema"


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


@pytest.mark.parametrize("source", ["pub", 'odd "host"\\ü%d', "tab\there"])
def test_next_encoded_is_the_encoded_next(source: str) -> None:
    """next_encoded gives the same numbers, type and JSON bytes as encode(next()), same seed."""
    by_struct = EventFactory(source, (*DEFAULT_EVENT_TYPES, 'we%ird"type'), seed=9)
    by_template = EventFactory(source, (*DEFAULT_EVENT_TYPES, 'we%ird"type'), seed=9)
    for stamp in (STAMP, 'not "a" stamp\\', "line\nbreak"):
        for _ in range(50):
            message = by_struct.next(stamp)
            seq, event_type, payload = by_template.next_encoded(stamp)
            assert (seq, event_type) == (message.sequence, message.data.event_type)
            assert payload == encode(message)


@pytest.mark.parametrize("epoch_ns", [0, 999_999_999, 1_714_979_289_123_456_789])
def test_next_encoded_at_stamps_as_format_ns(epoch_ns: int) -> None:
    """next_encoded_at(ns) is the JSON of next(format_ns(ns)), down to the microseconds."""
    from nats_pubsub.timeutil import format_ns

    by_struct = EventFactory("pub", DEFAULT_EVENT_TYPES, seed=4)
    by_clock = EventFactory("pub", DEFAULT_EVENT_TYPES, seed=4)
    for step in range(3):
        at = epoch_ns + step * 1_000_000_001
        assert by_clock.next_encoded_at(at)[2] == encode(by_struct.next(format_ns(at)))
