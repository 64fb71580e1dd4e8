"""The JSON Schema files in docs/schemas describe what our code sends and accepts."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import msgspec
import pytest
from hypothesis import given, settings

from nats_pubsub.domain.events import EventFactory
from nats_pubsub.domain.schema import DEFAULT_EVENT_TYPES, decode_event, encode
from nats_pubsub.domain.timeutil import now_timestamp
from nats_pubsub.errors import InvalidMessageError
from tests.helpers.event_shapes import INVALID_SHAPES, PEER_SHAPES, events

SCHEMAS = Path(__file__).parents[2] / "docs" / "schemas"


def _validator(name: str) -> jsonschema.Draft202012Validator:
    schema = json.loads((SCHEMAS / name).read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


_EVENT_VALIDATOR = _validator("event-message.schema.json")


def test_published_events_match_the_json_schema() -> None:
    """Every event our factory builds validates against event-message.schema.json."""
    validator = _validator("event-message.schema.json")
    factory = EventFactory("pub", DEFAULT_EVENT_TYPES, seed=7)
    for _ in range(200):
        validator.validate(msgspec.json.decode(encode(factory.next(now_timestamp()))))


def test_json_schema_and_decoder_agree_on_foreign_timestamps() -> None:
    """A timestamp the schema's pattern allows is one the decoder accepts, and vice versa."""
    validator = _validator("event-message.schema.json")
    base = msgspec.json.decode(encode(EventFactory("p", ("a.b",)).next(now_timestamp())))
    for stamp, valid in [
        ("2025-10-08T15:30:45Z", True),
        ("2025-10-08 15:30:45,5+02:00", True),
        ("2025-10-08T15:30:45.123456789-0530", True),
        ("2025-10-08", False),
        ("2025-10-08T15:30:45", False),
    ]:
        message = {**base, "timestamp": stamp}
        assert validator.is_valid(message) is valid, stamp
        try:
            decode_event(msgspec.json.encode(message))
            decoded = True
        except InvalidMessageError:
            decoded = False
        assert decoded is valid, stamp


def _decodes(message: dict[str, Any]) -> str | None:
    """None when decode_event accepts the message, else its reason."""
    try:
        decode_event(msgspec.json.encode(message))
    except InvalidMessageError as exc:
        return exc.reason
    return None


# Rules JSON Schema cannot state: message_id = source-sequence, and real calendar dates.
_BEYOND_JSON_SCHEMA = ("id-mismatch", "february-30")


@pytest.mark.parametrize("name", PEER_SHAPES)
def test_peer_shapes_match_the_json_schema(name: str) -> None:
    """What each peer sends is valid under the JSON Schema, as for the decoder."""
    assert _validator("event-message.schema.json").is_valid(PEER_SHAPES[name])
    assert _decodes(PEER_SHAPES[name]) is None


@pytest.mark.parametrize("name", [n for n in INVALID_SHAPES if n not in _BEYOND_JSON_SCHEMA])
def test_invalid_shapes_break_the_json_schema(name: str) -> None:
    """What the decoder rejects, the JSON Schema rejects too (where it can say so)."""
    message, _ = INVALID_SHAPES[name]
    assert not _validator("event-message.schema.json").is_valid(message)
    assert _decodes(message) is not None


@settings(max_examples=300, deadline=None)
@given(events(consistent_ids=True))
def test_json_schema_and_decoder_agree_on_generated_events(message: dict[str, Any]) -> None:
    """Generated events, with and without optional fields: the schema and decoder agree."""
    assert _EVENT_VALIDATOR.is_valid(message) is (_decodes(message) is None), message


def _documented_events() -> list[str]:
    root = SCHEMAS.parent.parent
    texts = [(root / "README.md").read_text(), (SCHEMAS.parent / "message-format.md").read_text()]
    return [found for text in texts for found in re.findall(r"`(\{\"message_id\".*?\}\})`", text)]


def test_every_documented_event_is_received() -> None:
    """Each peer language's example in README and docs/message-format.md is valid, for the
    decoder and for the JSON Schema."""
    examples = _documented_events()
    assert len(examples) >= 12
    for example in examples:
        assert _decodes(json.loads(example)) is None, example
        assert _EVENT_VALIDATOR.is_valid(json.loads(example)), example
