"""The publisher's events: numbered, with random values, built as structs or straight as bytes.

`EventFactory.next` builds the schema's structs (schema.py); `next_encoded*` make the same JSON
bytes from per-type templates without building them (tests compare the two, byte for byte).
"""

from __future__ import annotations

import random
from typing import Final

from nats_pubsub.domain.schema import RANDOM_FIELD_VALUES, EventData, EventMessage, encode
from nats_pubsub.domain.timeutil import stamp_parts

__all__ = ["EventFactory", "describe_event_type"]


def describe_event_type(event_type: str) -> str:
    """Human text for an event type: ``user.login`` -> ``User login``."""
    words = event_type.replace("_", " ").replace(".", " ").replace("-", " ").split()
    return " ".join(words).capitalize() if words else "Event"


class EventFactory:
    """Builds the publisher's messages: numbering, random values and the description."""

    __slots__ = (
        "_bits",
        "_descriptions",
        "_event_types",
        "_rng",
        "_templates",
        "sequence",
        "source",
    )

    def __init__(self, source: str, event_types: tuple[str, ...], seed: int | None = None) -> None:
        if not event_types:
            raise ValueError("at least one event type is needed")
        self.source = source
        self.sequence = 0
        self._event_types = event_types
        self._descriptions = {t: describe_event_type(t) for t in event_types}
        self._rng = random.Random(seed)
        # One draw of this many random bits gives a message's type, value and random field (see
        # `_draw`). 30 keeps it a one-digit Python int, cheap to divide; per type it leaves at
        # least 2**24 outcomes for the 4,000 (value, field) pairs, so none is likelier than
        # another by more than 1 in 4,000.
        self._bits = max(30, len(event_types).bit_length() + 24)
        # event type -> its description, the encoded message with %-placeholders (timestamp
        # given as text, or as the second's prefix and the microseconds)
        self._templates: dict[str, tuple[str, bytes, bytes]] = {}

    def _draw(self) -> tuple[int, str, int, str]:
        """Number the next message and draw its values: sequence, type, value, random field."""
        self.sequence += 1
        # One draw, read as mixed-radix digits: the type, then the value, then the random field.
        draw = self._rng.getrandbits(self._bits)
        types = self._event_types
        event_type = types[draw % len(types)]
        draw //= len(types)
        return self.sequence, event_type, draw % 1000 + 1, RANDOM_FIELD_VALUES[draw // 1000 & 3]

    def _message(
        self, timestamp: str, seq: int, event_type: str, value: int, rf: str
    ) -> EventMessage:
        return EventMessage(
            message_id=f"{self.source}-{seq}",
            timestamp=timestamp,
            source=self.source,
            sequence=seq,
            data=EventData(
                event_type=event_type,
                value=value,
                random_field=rf,
                status="success",
                description=f"{self._descriptions[event_type]} event #{seq}",
            ),
        )

    def next(self, timestamp: str) -> EventMessage:
        """Return the next message, numbered one higher than the last."""
        return self._message(timestamp, *self._draw())

    def next_encoded(self, timestamp: str) -> tuple[int, str, bytes]:
        """The next message already encoded: its sequence, event type and JSON.

        The same message `next` would return, and the same bytes `encode` makes of it, without
        building the structs: the constant parts are encoded once per event type.
        """
        seq, event_type, value, rf = self._draw()
        if '"' in timestamp or "\\" in timestamp or not timestamp.isprintable():
            return seq, event_type, encode(self._message(timestamp, seq, event_type, value, rf))
        template = self._template(event_type)[1]
        return (
            seq,
            event_type,
            template % (seq, timestamp.encode(), seq, value, _json_text(rf), seq),
        )

    def next_encoded_at(self, epoch_ns: int) -> tuple[int, str, bytes]:
        """As `next_encoded`, stamped with the time `epoch_ns` (as `format_ns` writes it)."""
        seq, _, event_type, payload = self.next_encoded_stamped(*stamp_parts(epoch_ns))
        return seq, event_type, payload

    def next_encoded_stamped(self, stamp: bytes, micros: int) -> tuple[int, bytes, str, bytes]:
        """As `next_encoded_at`, with the time given as the two parts of `stamp_parts`; the
        sequence also comes as its digits (bytes), for formats that take it so (`DIGITS`)."""
        self.sequence += 1
        seq = self.sequence
        draw = self._rng.getrandbits(self._bits)  # the values `_draw` reads from it, as it does
        types = self._event_types
        event_type = types[draw % len(types)]
        draw //= len(types)
        value = draw % 1000 + 1
        rf = _RANDOM_FIELD_TEXT[draw // 1000 & 3]
        cached = self._templates.get(event_type)
        if cached is None or cached[0] is not self._descriptions[event_type]:
            cached = self._template(event_type)
        text = b"%d" % seq
        return seq, text, event_type, cached[2] % (text, stamp, micros, text, value, rf, text)

    def _template(self, event_type: str) -> tuple[str, bytes, bytes]:
        """The encoded messages of `event_type` with %-placeholders where the values vary.

        Kept per description: a subclass may change the descriptions after construction.
        """
        description = self._descriptions[event_type]
        cached = self._templates.get(event_type)
        if cached is not None and cached[0] is description:
            return cached
        source = _json_text(self.source).replace(b"%", b"%%")
        kind = _json_text(event_type).replace(b"%", b"%%")
        text = _json_text(description).replace(b"%", b"%%")
        shape = (
            b'{"message_id":"%b-%b","timestamp":"%b","source":"%b","sequence":%b,'
            b'"data":{"event_type":"%b","value":%%d,"random_field":"%%b","status":"success",'
            b'"description":"%b event #%b"}}'
        )

        def fill(seq: bytes, stamp: bytes) -> bytes:  # the sequence's and timestamp's holes
            return shape % (source, seq, stamp, source, seq, kind, text, seq)

        cached = self._templates[event_type] = (
            description,
            fill(b"%d", b"%b"),
            fill(b"%b", b"%b%06dZ"),  # the sequence given as its digits (bytes)
        )
        return cached


def _json_text(value: str) -> bytes:
    """The contents of `value` as a JSON string, escaped exactly as `encode` escapes them."""
    return encode(value)[1:-1]


_RANDOM_FIELD_TEXT: Final = tuple(_json_text(value) for value in RANDOM_FIELD_VALUES)
