"""The JSON Schema files in docs/schemas describe what our code sends and accepts."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import msgspec

from nats_pubsub.errors import InvalidMessageError
from nats_pubsub.events import EventFactory
from nats_pubsub.schema import DEFAULT_EVENT_TYPES, decode_event, encode
from nats_pubsub.timeutil import now_timestamp

SCHEMAS = Path(__file__).parent.parent / "docs" / "schemas"


def _validator(name: str) -> jsonschema.Draft202012Validator:
    schema = json.loads((SCHEMAS / name).read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


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
