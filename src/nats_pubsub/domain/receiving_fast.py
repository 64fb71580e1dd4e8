"""A subscriber's hot path: a canonical event read in one typed pass, its record's values made
with no intermediate objects.

Canonical: the strict event schema (no unknown fields), the timestamp in our own form, and a
`message_id` that is `{source}-{sequence}` (what our publisher and the upstream programs send).
Anything else is `None` here and goes through `receiving.inspect_message`, which decides the
same way for a canonical event (tests/services/test_subscriber_paths.py proves both give the
same record). Pure: the clock is the only input from outside.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from nats_pubsub.domain.schema import DECODE_ERRORS, decode_event_strict
from nats_pubsub.domain.timeutil import canonical_timestamp_ns, now_ns

__all__ = ["EventValues", "canonical_event"]

# The values of an event's `Message received` record, in `receiving.EVENT_FIELDS` order:
# message id, subject, source, sequence, event type, size in bytes, latency in ms, reply or
# None. A bare tuple, as the record emitter takes it: one is made per received message.
EventValues = tuple[str, str, str, int, str, int, float, Any]


def canonical_event(
    subject: str, reply: str, data: bytes, clock: Callable[[], int] = now_ns
) -> EventValues | None:
    """The record values of a canonical event received now (`clock()`, epoch nanoseconds);
    None for anything else (the general path decides about it)."""
    try:
        msg = decode_event_strict(data)
    except DECODE_ERRORS:
        return None
    source, sequence = msg.source, msg.sequence
    sent = canonical_timestamp_ns(msg.timestamp)
    if sent is None or msg.message_id != f"{source}-{sequence}":
        return None
    latency = ((clock() - sent + 500) // 1000) / 1000
    return (
        msg.message_id,
        subject,
        source,
        sequence,
        msg.data.event_type,
        len(data),
        latency,
        reply or None,
    )
