"""Tests for nats_pubsub.domain.events: the publisher's events, as structs and as template bytes."""

from __future__ import annotations

import pytest

from nats_pubsub.domain.events import EventFactory, describe_event_type
from nats_pubsub.domain.schema import DEFAULT_EVENT_TYPES, RANDOM_FIELD_VALUES, encode
from nats_pubsub.domain.timeutil import format_ns

STAMP = "2024-05-06T07:08:09.123456Z"


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
    by_struct = EventFactory("pub", DEFAULT_EVENT_TYPES, seed=4)
    by_clock = EventFactory("pub", DEFAULT_EVENT_TYPES, seed=4)
    for step in range(3):
        at = epoch_ns + step * 1_000_000_001
        assert by_clock.next_encoded_at(at)[2] == encode(by_struct.next(format_ns(at)))


def test_factory_draws_every_type_value_and_field_evenly() -> None:
    """Over many messages each type, random field and value decile comes up about equally often."""
    types = ("a.one", "b.two", "c.three")
    factory = EventFactory("pub", types, seed=11)
    draws = 60_000
    kinds: dict[str, int] = {}
    fields: dict[str, int] = {}
    deciles = [0] * 10
    for _ in range(draws):
        data = factory.next(STAMP).data
        kinds[data.event_type] = kinds.get(data.event_type, 0) + 1
        fields[data.random_field] = fields.get(data.random_field, 0) + 1
        deciles[(data.value - 1) // 100] += 1
    assert set(kinds) == set(types)
    assert set(fields) == set(RANDOM_FIELD_VALUES)
    for counts, expected in ((kinds, draws / 3), (fields, draws / 4)):
        assert all(abs(n - expected) < 0.05 * expected for n in counts.values()), counts
    assert all(abs(n - draws / 10) < 0.05 * draws / 10 for n in deciles), deciles
