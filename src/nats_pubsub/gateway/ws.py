"""The WebSocket routes: live messages on a subject filter, or from a durable pull consumer.

Frames are binary protobuf `WebSocketFrame`s (the upstream's protocol: SUBSCRIBE_ACK first, one
MESSAGE frame per message, ERROR and CLOSE controls), or JSON text frames with `?format=json`.
A client that falls behind gets a lag notice (an ERROR control whose code is the number of
messages missed; in JSON `{"type":"lag","missed":N}`) and continues with newer messages. On
shutdown every socket gets a CLOSE control and a close frame.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any, Final

from nats_pubsub.connection.js_reading import bind_pull
from nats_pubsub.errors import ConsumerNotFound, NatsError, StreamNotFound
from nats_pubsub.gateway import validation
from nats_pubsub.gateway.api_messages import resolve_read
from nats_pubsub.gateway.asgi import Receive, Request, Send, until_first
from nats_pubsub.gateway.failures import failure
from nats_pubsub.gateway.live import ClientQueue, Ended, Lag, LiveItem
from nats_pubsub.gateway.live_formats import control, json_frame, proto_frame
from nats_pubsub.gateway.state import Gateway
from nats_pubsub.gateway.ws_protocol import BatchedWebSocketProtocol

__all__ = ["ws_consumer", "ws_subject"]

_NORMAL: Final = 1000
_GOING_AWAY: Final = 1001
_TRY_LATER: Final = 1013
_FETCH_WAIT: Final = 5.0
_FETCH_BATCH: Final = 100
_RETRY_AFTER: Final = 1.0


class _Socket:
    """One accepted WebSocket: send frames of the client's format, notice its departure."""

    def __init__(self, receive: Receive, send: Send, as_json: bool) -> None:
        self._receive, self._send, self.as_json = receive, send, as_json
        self.open = True
        # uvicorn's `send` is a method of the connection's protocol: ours sends many at once.
        protocol = getattr(send, "__self__", None)
        self._many = (
            protocol.send_frames if isinstance(protocol, BatchedWebSocketProtocol) else None
        )

    async def frame(self, data: bytes | str) -> None:
        if isinstance(data, str):
            await self._send({"type": "websocket.send", "text": data})
        else:
            await self._send({"type": "websocket.send", "bytes": data})

    async def frames(self, batch: list[bytes | str]) -> None:
        """Several frames, in order (in one piece when the protocol allows)."""
        if self._many is not None:
            await self._many(batch)
            return
        for data in batch:
            await self.frame(data)

    async def notice(self, kind: str, text: str, missed: int = 0) -> None:
        await self.frame(control(kind, text, missed, as_json=self.as_json))

    async def gone(self) -> None:
        """Returns when the client disconnects (the server never expects messages)."""
        while True:
            message = await self._receive()
            if message["type"] == "websocket.disconnect":
                self.open = False
                return

    async def close(self, code: int, reason: str) -> None:
        if self.open:
            self.open = False
            with contextlib.suppress(Exception):  # the client may be gone already
                await self.notice("close", "Connection closing")
                await self._send({"type": "websocket.close", "code": code, "reason": reason})


async def _accept(receive: Receive, send: Send, req: Request) -> _Socket:
    await receive()  # websocket.connect
    await send({"type": "websocket.accept"})
    return _Socket(receive, send, req.query.get("format", "").lower() == "json")


async def _pump(gw: Gateway, sock: _Socket, queue: ClientQueue) -> None:
    encode: Callable[[LiveItem], Any] = json_frame if sock.as_json else proto_frame
    key = "json" if sock.as_json else "pb"
    stats = gw.http
    while True:
        batch: list[bytes | str] = []
        for entry in await queue.take():
            if isinstance(entry, LiveItem):
                batch.append(entry.encoded(key, encode))
                continue
            if batch:
                await sock.frames(batch)
                stats.live_sent += len(batch)
                batch = []
            if isinstance(entry, Lag):
                await sock.notice("lag", f"Missed {entry.missed} messages", entry.missed)
            elif isinstance(entry, Ended):
                await sock.notice("error", entry.reason)
                return
        if batch:
            await sock.frames(batch)
            stats.live_sent += len(batch)


async def ws_subject(gw: Gateway, req: Request, receive: Receive, send: Send) -> None:
    """`WS /ws/websocketmessages/{subject}`: messages on the filter from now on."""
    sock = await _accept(receive, send, req)
    if not gw.open_live():
        await sock.notice("error", "Too many live streams open; try again later")
        await sock.close(_TRY_LATER, "Too many live streams")
        return
    queue = ClientQueue(gw.settings.gateway_client_queue)
    feed = None
    try:
        subject = validation.filter_subject(req.params["subject"])
        gw.need()
        stream = await resolve_read(gw, subject)
        assert gw.live is not None
        feed = await gw.live.join(stream, subject, queue)
    except (NatsError, validation.Invalid) as exc:
        gw.close_live()
        await sock.notice("error", failure(exc).text)
        await sock.close(_NORMAL, "Stream ended")
        return
    gw.log.info("WebSocket connection established", subject_filter=subject, stream=stream)
    try:
        await sock.notice("subscribe_ack", f"Subscribed to {subject}")
        stopping = await until_first(_pump(gw, sock, queue), sock.gone(), gw.stopping)
    finally:
        gw.close_live()
        await gw.live.leave(feed, queue)
        gw.log.info("WebSocket connection closed", subject_filter=subject)
    await sock.close(_GOING_AWAY if stopping else _NORMAL, "Stream ended")


async def _consume(gw: Gateway, sock: _Socket, sub: Any, consumer: str) -> None:
    encode = json_frame if sock.as_json else proto_frame
    while True:
        try:
            deliveries = await sub.fetch(_FETCH_BATCH, _FETCH_WAIT)
        except NatsError:  # NATS is down or the leader moved: the binding works again after
            await asyncio.sleep(_RETRY_AFTER)
            continue
        for delivery in deliveries:
            meta = delivery.meta
            item = LiveItem(
                delivery.subject,
                delivery.data,
                meta.stream_seq if meta else 0,
                meta.timestamp_ns if meta else 0,
                meta.stream if meta else "",
            )
            await sock.frame(encode(item, consumer))
            gw.http.live_sent += 1
            await delivery.ack()


async def ws_consumer(gw: Gateway, req: Request, receive: Receive, send: Send) -> None:
    """`WS /ws/websocketmessages/{stream}/consumer/{consumer}`: a pull consumer's messages,
    each acknowledged once sent."""
    sock = await _accept(receive, send, req)
    if not gw.open_live():
        await sock.notice("error", "Too many live streams open; try again later")
        await sock.close(_TRY_LATER, "Too many live streams")
        return
    stream, consumer = req.params["stream"], req.params["consumer"]
    try:
        validation.name(stream, "stream")
        validation.name(consumer, "consumer")
        conn, api, _ = gw.need()
        sub = await bind_pull(conn, api, stream, consumer)
    except (ConsumerNotFound, StreamNotFound):
        gw.close_live()
        await sock.notice(
            "error",
            f"Consumer '{consumer}' does not exist in stream '{stream}'. Please create the "
            "consumer first using the NATS CLI or management API.",
        )
        await sock.close(_NORMAL, "Stream ended")
        return
    except (NatsError, validation.Invalid) as exc:
        gw.close_live()
        await sock.notice("error", failure(exc).text)
        await sock.close(_NORMAL, "Stream ended")
        return
    gw.log.info("WebSocket connection established", stream=stream, consumer=consumer)
    try:
        await sock.notice("subscribe_ack", f"Subscribed to consumer {consumer}")
        stopping = await until_first(_consume(gw, sock, sub, consumer), sock.gone(), gw.stopping)
    finally:
        gw.close_live()
        await sub.unsubscribe()
        gw.log.info("WebSocket connection closed", stream=stream, consumer=consumer)
    await sock.close(_GOING_AWAY if stopping else _NORMAL, "Stream ended")
