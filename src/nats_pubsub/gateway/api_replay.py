"""`GET /api/replay/{stream}`: a stream's stored messages from a sequence or a time, a page at a
time, read by sequence through the stream's message API (no consumer is made or moved)."""

from __future__ import annotations

import msgspec

from nats_pubsub.connection.js_admin import StoredMessage
from nats_pubsub.domain.timeutil import format_ns, now_ns, parse_timestamp_ns
from nats_pubsub.gateway import validation
from nats_pubsub.gateway.api_messages import payload_value
from nats_pubsub.gateway.asgi import Request, Response, json_response
from nats_pubsub.gateway.models import FetchedMessage
from nats_pubsub.gateway.state import Gateway

__all__ = ["ReplayResponse", "replay"]


class ReplayResponse(msgspec.Struct):
    """A page of a stream's messages, oldest first; `next_sequence` is where the next page
    starts when this one was full (None when the stream ended within it)."""

    stream: str
    subject: str
    start: str
    count: int
    messages: list[FetchedMessage]
    next_sequence: int | None


def _fetched(msg: StoredMessage) -> FetchedMessage:
    try:
        stamp = format_ns(parse_timestamp_ns(msg.time)) if msg.time else ""
    except ValueError:
        stamp = msg.time
    return FetchedMessage(
        subject=msg.subject,
        sequence=msg.seq,
        timestamp=stamp,
        data=payload_value(msg.data),
        size_bytes=len(msg.data),
    )


async def replay(gw: Gateway, req: Request) -> Response:
    """`GET /api/replay/{stream}?start=&subject=&limit=`: up to `limit` (1-100, default 20)
    messages from `start` (`all`, a sequence `42` / `seq:42`, `since:15m`, or
    `since:<RFC 3339 time>`) on the `subject` filter (default: all); 404 for a missing stream."""
    stream = validation.name(req.params["stream"], "stream")
    start = validation.replay_from(req.query, now_ns())
    subject = validation.filter_subject(req.query.get("subject") or ">")
    limit = validation.limit(req.query, default=20)
    _, api, _ = gw.need()
    await api.stream_info(stream)  # a missing stream is a 404 before anything else
    found: list[StoredMessage] = []
    stamp = None if start.time_ns is None else format_ns(start.time_ns)
    msg = await api.message(stream, start.sequence or 1, subject, start_time=stamp)
    while msg is not None:
        found.append(msg)
        if len(found) >= limit:
            break
        msg = await api.message(stream, msg.seq + 1, subject)
    more = msg is not None and len(found) >= limit
    return json_response(
        ReplayResponse(
            stream=stream,
            subject=subject,
            start=stamp if stamp is not None else f"seq:{start.sequence}",
            count=len(found),
            messages=[_fetched(m) for m in found],
            next_sequence=found[-1].seq + 1 if more else None,
        )
    )
