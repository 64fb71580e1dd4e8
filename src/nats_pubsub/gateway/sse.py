"""`GET /api/stream/{subject}`: live messages as Server-Sent Events, for browsers' EventSource.

Each message is `id: <stream sequence>`, `event: message`, `data: <JSON>`; a reconnecting
EventSource sends `Last-Event-ID` and the stream resumes right after that sequence (also
`?last_event_id=N`). A client that falls behind gets `event: lag` with how many it missed. A
comment line every 15 s keeps proxies from closing an idle stream.
"""

from __future__ import annotations

import asyncio
from typing import Final

from nats_pubsub.errors import NatsError
from nats_pubsub.gateway import validation
from nats_pubsub.gateway.api_messages import resolve_read
from nats_pubsub.gateway.asgi import (
    Receive,
    Request,
    Response,
    Send,
    client_gone,
    end_body,
    error,
    until_first,
)
from nats_pubsub.gateway.live import ClientQueue, Ended, Lag, LiveFeed, LiveItem
from nats_pubsub.gateway.live_formats import KEEPALIVE_COMMENT, sse_control, sse_message
from nats_pubsub.gateway.state import Gateway

__all__ = ["sse_stream"]

KEEPALIVE_EVERY: Final = 15.0
_HEADERS: Final = [(b"cache-control", b"no-cache"), (b"x-accel-buffering", b"no")]


def _resume_after(req: Request) -> int | None:
    raw = req.header(b"last-event-id")
    text = raw.decode("latin-1") if raw is not None else req.query.get("last_event_id")
    if text is None or not text.strip():
        return None
    try:
        value = int(text.strip())
    except ValueError:
        raise validation.Invalid("Last-Event-ID must be a stream sequence number") from None
    if value < 0:
        raise validation.Invalid("Last-Event-ID must be a stream sequence number")
    return value


async def sse_stream(gw: Gateway, req: Request) -> Response:
    """Open the feed first (so a bad filter is a JSON 4xx), then stream events."""
    subject = validation.filter_subject(req.params["subject"])
    after = _resume_after(req)
    gw.need()
    stream = await resolve_read(gw, subject)
    if not gw.open_live():
        return error(429, "Too many live streams open; try again later")
    queue = ClientQueue(gw.settings.gateway_client_queue)
    assert gw.live is not None
    try:
        feed = await gw.live.join(stream, subject, queue, after)
    except NatsError:
        gw.close_live()
        raise

    async def run(send: Send, receive: Receive) -> None:
        try:
            await _events(gw, feed, queue, subject, send, receive)
        finally:
            gw.close_live()
            assert gw.live is not None
            await gw.live.leave(feed, queue)

    return Response(200, b"", b"text/event-stream", list(_HEADERS), stream=run)


async def _events(
    gw: Gateway, feed: LiveFeed, queue: ClientQueue, subject: str, send: Send, receive: Receive
) -> None:
    async def write(data: bytes) -> None:
        await send({"type": "http.response.body", "body": data, "more_body": True})

    async def pump() -> None:
        await write(sse_control("subscribed", f"Subscribed to {subject}", stream=feed.stream))
        while True:
            try:
                entries = await asyncio.wait_for(queue.take(), KEEPALIVE_EVERY)
            except TimeoutError:
                await write(KEEPALIVE_COMMENT)
                continue
            chunk = []
            for entry in entries:
                if isinstance(entry, LiveItem):
                    chunk.append(entry.encoded("sse", sse_message))
                    gw.http.live_sent += 1
                elif isinstance(entry, Lag):
                    chunk.append(sse_control("lag", "Missed messages", missed=entry.missed))
                elif isinstance(entry, Ended):
                    chunk.append(sse_control("error", entry.reason))
                    await write(b"".join(chunk))
                    return
            await write(b"".join(chunk))

    stopping = await until_first(pump(), client_gone(receive), gw.stopping)
    await end_body(send, sse_control("end", "Gateway shutting down") if stopping else None)
