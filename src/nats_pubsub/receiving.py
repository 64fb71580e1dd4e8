"""What a subscriber makes of one delivered message: its kind, log fields and latency."""

from __future__ import annotations

from typing import Any

from nats_pubsub.errors import InvalidMessageError
from nats_pubsub.schema import decode_event, decode_payment

__all__ = ["Accepted", "inspect_message", "is_payment_subject", "preview", "rejection_fields"]

_PREVIEW_CHARS = 120


def is_payment_subject(subject: str) -> bool:
    """Payment transactions travel on `payments.>`; everything else should be an event."""
    return subject.startswith("payments.")


def preview(data: bytes, limit: int = _PREVIEW_CHARS) -> str:
    """A short, printable excerpt of a payload for error records."""
    cut = len(data) > limit * 4
    text = data[: limit * 4].decode("utf-8", "backslashreplace")
    return text[:limit] + "…" if cut or len(text) > limit else text


class Accepted:
    """A valid message: the fields to log, its latency, and unknown field names it carried."""

    __slots__ = ("fields", "latency_ms", "unknown_fields")

    def __init__(self, fields: dict[str, Any], latency_ms: float, unknown: tuple[str, ...]) -> None:
        self.fields = fields
        self.latency_ms = latency_ms
        self.unknown_fields = unknown


def inspect_message(subject: str, data: bytes, reply: str, now_ns: int) -> Accepted:
    """Validate a delivered message and build its `Message received` fields.

    Raises InvalidMessageError with a bounded reason when the payload breaks the schema.
    """
    if is_payment_subject(subject):
        payment = decode_payment(data)
        txn = payment.message
        latency_ms = round((now_ns - payment.timestamp_ns) / 1e6, 3)
        fields: dict[str, Any] = {
            "kind": "payment",
            "transaction_id": txn.transaction_id,
            "subject": subject,
            "source": txn.source,
            "status": txn.status,
            "amount": txn.amount,
            "size_bytes": len(data),
            "latency_ms": latency_ms,
            "reply_to": reply or None,
        }
        return Accepted(fields, latency_ms, payment.unknown_fields)
    event = decode_event(data)
    msg = event.message
    latency_ms = round((now_ns - event.timestamp_ns) / 1e6, 3)
    fields = {
        "message_id": msg.message_id,
        "subject": subject,
        "source": msg.source,
        "sequence": msg.sequence,
        "event_type": msg.data.event_type,
        "size_bytes": len(data),
        "latency_ms": latency_ms,
        "reply_to": reply or None,
    }
    return Accepted(fields, latency_ms, event.unknown_fields)


def rejection_fields(subject: str, data: bytes, exc: InvalidMessageError) -> dict[str, Any]:
    """The fields of an `Invalid message` record."""
    return {
        "subject": subject,
        "reason": exc.reason,
        "error": exc.detail,
        "size_bytes": len(data),
        "preview": preview(data),
    }
