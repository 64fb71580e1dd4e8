"""What a subscriber makes of one delivered message: its kind, log fields and latency."""

from __future__ import annotations

from typing import Any, Final

from nats_pubsub.domain.schema import decode_event, decode_payment
from nats_pubsub.errors import InvalidMessageError

__all__ = [
    "EVENT_FIELDS",
    "PAYMENT_FIELDS",
    "Accepted",
    "inspect_message",
    "is_payment_subject",
    "latency_ms",
    "preview",
    "rejection_fields",
]

_PREVIEW_CHARS = 120


def is_payment_subject(subject: str) -> bool:
    """Payment transactions travel on `payments.>`; everything else should be an event."""
    return subject.startswith("payments.")


def preview(data: bytes, limit: int = _PREVIEW_CHARS) -> str:
    """A short, printable excerpt of a payload for error records."""
    cut = len(data) > limit * 4
    text = data[: limit * 4].decode("utf-8", "backslashreplace")
    return text[:limit] + "…" if cut or len(text) > limit else text


# The fields of a `Message received` record, in order, for each kind of message.
EVENT_FIELDS: Final = (
    "message_id",
    "subject",
    "source",
    "sequence",
    "event_type",
    "size_bytes",
    "latency_ms",
    "reply_to",
)
PAYMENT_FIELDS: Final = (
    "kind",
    "transaction_id",
    "subject",
    "source",
    "status",
    "amount",
    "size_bytes",
    "latency_ms",
    "reply_to",
)


class Accepted:
    """A valid message: its record values (in `names` order), latency and unknown field names.

    `sequence` is the event's sequence number (None for payments, which carry none).
    """

    __slots__ = ("latency_ms", "names", "sequence", "source", "unknown_fields", "values")

    def __init__(
        self,
        names: tuple[str, ...],
        values: tuple[Any, ...],
        latency_ms: float,
        unknown: tuple[str, ...],
        source: str,
        sequence: int | None,
    ) -> None:
        self.names = names
        self.values = values
        self.latency_ms = latency_ms
        self.unknown_fields = unknown
        self.source = source
        self.sequence = sequence

    @property
    def fields(self) -> dict[str, Any]:
        """The record's fields as a dict (built on demand: the hot path uses `values`)."""
        return dict(zip(self.names, self.values, strict=True))


def latency_ms(now_ns: int, sent_ns: int) -> float:
    """Milliseconds from `sent_ns` to `now_ns`, rounded to 3 decimals (integer math, exact)."""
    return ((now_ns - sent_ns + 500) // 1000) / 1000


def inspect_message(subject: str, data: bytes, reply: str, now_ns: int) -> Accepted:
    """Validate a delivered message and build its `Message received` record values.

    Raises InvalidMessageError with a bounded reason when the payload breaks the schema.
    """
    if is_payment_subject(subject):
        payment = decode_payment(data)
        txn = payment.message
        latency = latency_ms(now_ns, payment.timestamp_ns)
        values: tuple[Any, ...] = (
            "payment",
            txn.transaction_id,
            subject,
            txn.source,
            txn.status,
            txn.amount,
            len(data),
            latency,
            reply or None,
        )
        return Accepted(PAYMENT_FIELDS, values, latency, payment.unknown_fields, txn.source, None)
    event = decode_event(data)
    msg = event.message
    latency = latency_ms(now_ns, event.timestamp_ns)
    values = (
        msg.message_id,
        subject,
        msg.source,
        msg.sequence,
        msg.data.event_type,
        len(data),
        latency,
        reply or None,
    )
    return Accepted(EVENT_FIELDS, values, latency, event.unknown_fields, msg.source, msg.sequence)


def rejection_fields(subject: str, data: bytes, exc: InvalidMessageError) -> dict[str, Any]:
    """The fields of an `Invalid message` record."""
    return {
        "subject": subject,
        "reason": exc.reason,
        "error": exc.detail,
        "size_bytes": len(data),
        "preview": preview(data),
    }
