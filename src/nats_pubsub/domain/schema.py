"""The wire format (schema v1): event messages and payment transactions, encode and decode.

Decoding validates in one pass with typed msgspec structs; see docs/message-format.md.
"""

from __future__ import annotations

from typing import Annotated, Final, TypeVar

import msgspec

from nats_pubsub.domain.timeutil import parse_timestamp_ns
from nats_pubsub.errors import InvalidMessageError

__all__ = [
    "DECODE_ERRORS",
    "DEFAULT_EVENT_TYPES",
    "MAX_MESSAGE_ID_CHARS",
    "MAX_SOURCE_CHARS",
    "RANDOM_FIELD_VALUES",
    "DecodedEvent",
    "DecodedPayment",
    "EventData",
    "EventMessage",
    "PaymentTransaction",
    "decode_event",
    "decode_event_strict",
    "decode_payment",
    "encode",
]

_T = TypeVar("_T")

DEFAULT_EVENT_TYPES: Final = ("user.login", "user.logout", "order.created", "payment.processed")
RANDOM_FIELD_VALUES: Final = ("alpha", "beta", "gamma", "delta")
# Longer values are rejected (reason `too_long`): a source is kept per sender to track sequences,
# and both appear in every record. A message_id has room for the source, "-" and any 64-bit
# sequence (20 digits).
MAX_SOURCE_CHARS: Final = 256
MAX_MESSAGE_ID_CHARS: Final = MAX_SOURCE_CHARS + 1 + 20


class EventData(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, omit_defaults=True):
    """The `data` object of an event message: `event_type` and `value` required, the rest optional.

    Our publisher sends every field; the upstream C# and Python publishers send no `status` or
    `description`, the seed's example no `random_field`. A `null` counts as absent.
    """

    event_type: str
    value: int
    random_field: str | None = None
    status: str | None = None
    description: str | None = None


class EventMessage(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """An event as published on `events.*` subjects by every language's publisher."""

    message_id: Annotated[str, msgspec.Meta(max_length=MAX_MESSAGE_ID_CHARS)]
    timestamp: str
    source: Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_SOURCE_CHARS)]
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
        if text.startswith("Expected `str` of length <="):  # only source and message_id
            return InvalidMessageError("too_long", text)
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
