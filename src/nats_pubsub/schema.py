"""The wire format (schema v1): event messages and payment transactions, encode and decode.

Decoding validates in one pass with typed msgspec structs; see docs/message-format.md.
"""

from __future__ import annotations

import random
from typing import Annotated, Final, TypeVar

import msgspec

from nats_pubsub.errors import InvalidMessageError
from nats_pubsub.timeutil import parse_timestamp_ns, stamp_parts

__all__ = [
    "DECODE_ERRORS",
    "DEFAULT_EVENT_TYPES",
    "RANDOM_FIELD_VALUES",
    "DecodedEvent",
    "DecodedPayment",
    "EventData",
    "EventFactory",
    "EventMessage",
    "PaymentTransaction",
    "decode_event",
    "decode_event_strict",
    "decode_payment",
    "describe_event_type",
    "encode",
]

_T = TypeVar("_T")

DEFAULT_EVENT_TYPES: Final = ("user.login", "user.logout", "order.created", "payment.processed")
RANDOM_FIELD_VALUES: Final = ("alpha", "beta", "gamma", "delta")


class EventData(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, omit_defaults=True):
    """The `data` object of an event message."""

    event_type: str
    value: int
    # Optional on receipt: peers written before schema v1 (the seed's example) do not send it.
    random_field: str | None = None
    status: str
    description: str


class EventMessage(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """An event as published on `events.*` subjects by every language's publisher."""

    message_id: str
    timestamp: str
    source: str
    sequence: Annotated[int, msgspec.Meta(gt=0)]
    data: EventData


class PaymentTransaction(
    msgspec.Struct, kw_only=True, forbid_unknown_fields=True, omit_defaults=True
):
    """A credit card transaction as published on `payments.>` (accepted or declined)."""

    transaction_id: str
    timestamp: str
    source: str
    card_type: str
    last_four: str
    amount: float
    currency: str
    status: str
    merchant_id: str | None = None
    authorization_code: str | None = None
    decline_reason: str | None = None
    decline_code: str | None = None


class DecodedEvent(msgspec.Struct, frozen=True):
    """A valid event, its timestamp in epoch nanoseconds, and unknown field names it carried."""

    message: EventMessage
    timestamp_ns: int
    unknown_fields: tuple[str, ...] = ()


class DecodedPayment(msgspec.Struct, frozen=True):
    """A valid payment transaction and its timestamp in epoch nanoseconds."""

    message: PaymentTransaction
    timestamp_ns: int
    unknown_fields: tuple[str, ...] = ()


_encoder = msgspec.json.Encoder()
encode = _encoder.encode
_event_decoder = msgspec.json.Decoder(EventMessage)
_payment_decoder = msgspec.json.Decoder(PaymentTransaction)
_any_decoder = msgspec.json.Decoder()


def describe_event_type(event_type: str) -> str:
    """Human text for an event type: ``user.login`` -> ``User login``."""
    words = event_type.replace("_", " ").replace(".", " ").replace("-", " ").split()
    return " ".join(words).capitalize() if words else "Event"


class EventFactory:
    """Builds the publisher's messages: numbering, random values and the description."""

    __slots__ = (
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
        # event type -> its description, the encoded message with %-placeholders (timestamp
        # given as text, or as the second's prefix and the microseconds)
        self._templates: dict[str, tuple[str, bytes, bytes]] = {}

    def _draw(self) -> tuple[int, str, int, str]:
        """Number the next message and draw its values: sequence, type, value, random field."""
        self.sequence += 1
        draw = self._rng.random  # three draws from one call each: cheaper than choice/randint
        types = self._event_types
        event_type = types[int(draw() * len(types))]
        return (
            self.sequence,
            event_type,
            int(draw() * 1000) + 1,
            RANDOM_FIELD_VALUES[int(draw() * 4)],
        )

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
        return self.next_encoded_stamped(*stamp_parts(epoch_ns))

    def next_encoded_stamped(self, stamp: bytes, micros: int) -> tuple[int, str, bytes]:
        """As `next_encoded_at`, with the time given as the two parts of `stamp_parts`."""
        self.sequence += 1
        seq = self.sequence
        draw = self._rng.random  # the same draws, in the same order, as `_draw`
        types = self._event_types
        event_type = types[int(draw() * len(types))]
        value = int(draw() * 1000) + 1
        rf = _RANDOM_FIELD_TEXT[int(draw() * 4)]
        cached = self._templates.get(event_type)
        if cached is None or cached[0] is not self._descriptions[event_type]:
            cached = self._template(event_type)
        return seq, event_type, cached[2] % (seq, stamp, micros, seq, value, rf, seq)

    def _template(self, event_type: str) -> tuple[str, bytes, bytes]:
        """The encoded messages of `event_type` with %-placeholders where the values vary.

        Kept per description: a subclass may change the descriptions after construction.
        """
        description = self._descriptions[event_type]
        cached = self._templates.get(event_type)
        if cached is not None and cached[0] is description:
            return cached
        source = _json_text(self.source).replace(b"%", b"%%")
        shape = (
            b'{"message_id":"%b-%%d","timestamp":"%b","source":"%b","sequence":%%d,'
            b'"data":{"event_type":"%b","value":%%d,"random_field":"%%b","status":"success",'
            b'"description":"%b event #%%d"}}'
        )
        parts = (
            _json_text(event_type).replace(b"%", b"%%"),
            _json_text(description).replace(b"%", b"%%"),
        )
        cached = self._templates[event_type] = (
            description,
            shape % (source, b"%b", source, *parts),
            shape % (source, b"%b%06dZ", source, *parts),
        )
        return cached


def _json_text(value: str) -> bytes:
    """The contents of `value` as a JSON string, escaped exactly as `encode` escapes them."""
    return encode(value)[1:-1]


_RANDOM_FIELD_TEXT: Final = tuple(_json_text(value) for value in RANDOM_FIELD_VALUES)


_Known = tuple[frozenset[str], ...]
_EVENT_FIELDS: _Known = (
    frozenset(EventMessage.__struct_fields__),
    frozenset(EventData.__struct_fields__),
)
_PAYMENT_FIELDS: _Known = (frozenset(PaymentTransaction.__struct_fields__),)


def _strip_unknown(payload: bytes, known: _Known) -> tuple[dict[str, object], list[str]]:
    """Drop fields the schema does not know; return the cleaned object and their names."""
    raw = _any_decoder.decode(payload)
    if not isinstance(raw, dict):
        raise InvalidMessageError("not_object", f"payload is a JSON {type(raw).__name__}")
    names = [key for key in raw if key not in known[0]]
    for key in names:
        del raw[key]
    data = raw.get("data")
    if len(known) > 1 and isinstance(data, dict):
        extra = [key for key in data if key not in known[1]]
        for key in extra:
            del data[key]
        names.extend(f"data.{key}" for key in extra)
    return raw, names


DECODE_ERRORS: Final = (
    msgspec.ValidationError,
    msgspec.DecodeError,
    UnicodeDecodeError,
    RecursionError,
)
_DECODE_ERRORS = DECODE_ERRORS


def _is_utf8(payload: bytes) -> bool:
    try:
        payload.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _invalid_from(exc: Exception, payload: bytes = b"") -> InvalidMessageError:
    """Translate a msgspec/codec failure into a bounded reason and a readable detail."""
    if isinstance(exc, msgspec.DecodeError) and not _is_utf8(payload):
        exc = UnicodeDecodeError("utf-8", payload, 0, 1, "invalid")
    if isinstance(exc, UnicodeDecodeError):
        return InvalidMessageError("bad_utf8", "payload is not valid UTF-8")
    if isinstance(exc, RecursionError):
        return InvalidMessageError("not_json", "JSON is nested too deeply")
    text = str(exc)
    if isinstance(exc, msgspec.ValidationError):
        if text.startswith("Expected `object`, got") and " - at " not in text:
            return InvalidMessageError("not_object", text)
        return InvalidMessageError("schema", text)
    if text == "Input data was truncated":
        return InvalidMessageError("not_json", "payload is empty or truncated JSON")
    return InvalidMessageError("not_json", text)


def _decode(
    payload: bytes, decoder: msgspec.json.Decoder[_T], struct: type[_T], known: _Known
) -> tuple[_T, tuple[str, ...]]:
    try:
        return decoder.decode(payload), ()
    except _DECODE_ERRORS as exc:
        if not (isinstance(exc, msgspec.ValidationError) and "unknown field" in str(exc)):
            raise _invalid_from(exc, payload) from None
    # Rare path: a peer sent extra fields. Accept the message without them.
    try:
        raw, unknown = _strip_unknown(payload, known)
        return msgspec.convert(raw, struct), tuple(unknown)
    except _DECODE_ERRORS as exc:
        raise _invalid_from(exc, payload) from None


def _timestamp_ns(text: str) -> int:
    try:
        return parse_timestamp_ns(text)
    except ValueError as exc:
        raise InvalidMessageError("bad_timestamp", f"{exc}: {text[:40]!r}") from None


# The hot path's first try: a strict typed decode (no unknown fields), raising DECODE_ERRORS.
decode_event_strict = _event_decoder.decode


def decode_event(payload: bytes) -> DecodedEvent:
    """Decode and validate an event message, or raise InvalidMessageError."""
    message, unknown = _decode(payload, _event_decoder, EventMessage, _EVENT_FIELDS)
    expected_id = f"{message.source}-{message.sequence}"
    if message.message_id != expected_id:
        raise InvalidMessageError(
            "bad_message_id",
            f"message_id {message.message_id[:60]!r} is not source-sequence {expected_id[:60]!r}",
        )
    return DecodedEvent(message, _timestamp_ns(message.timestamp), unknown)


def decode_payment(payload: bytes) -> DecodedPayment:
    """Decode and validate a payment transaction, or raise InvalidMessageError."""
    message, unknown = _decode(payload, _payment_decoder, PaymentTransaction, _PAYMENT_FIELDS)
    return DecodedPayment(message, _timestamp_ns(message.timestamp), unknown)
