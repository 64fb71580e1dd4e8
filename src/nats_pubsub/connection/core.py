"""A live NATS connection: the connection layer's face to the services (publish, subscribe,
flush, drain), over one nats-py client. `connect.connect` makes one.

Every nats-py exception that can leave this module is translated into our tree in `errors.py`
(see `error_map.map_error`), so services never import `nats` and never see its exception types.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

import nats.errors as nerr
from nats.aio.client import Client

from nats_pubsub.config.common import (
    DEFAULT_PENDING_BYTES_LIMIT,
    DEFAULT_PENDING_MSGS_LIMIT,
    mask_url,
)
from nats_pubsub.connection._natspy import Hooks
from nats_pubsub.connection.callbacks import ConnectionEvents
from nats_pubsub.connection.direct import DirectHandler, DirectRouter
from nats_pubsub.connection.error_map import (
    CLIENT_ERRORS,
    map_error,
)
from nats_pubsub.connection.reader import RoutingParser
from nats_pubsub.domain.wire import hpub_frame
from nats_pubsub.errors import (
    NatsClosedError,
)
from nats_pubsub.logs.logger import Logger

__all__ = ["Connection", "Delivery", "MessageHandler", "Unsubscribe"]


class Delivery(Protocol):
    """What a message handler receives: the fields of a delivered NATS message."""

    subject: str
    reply: str
    data: bytes
    headers: dict[str, str] | None


MessageHandler = Callable[[Delivery], Awaitable[None]]
Unsubscribe = Callable[[], Awaitable[None]]


class Connection:
    """A live NATS connection: publish, subscribe, flush, drain."""

    def __init__(
        self,
        client: Client,
        log: Logger,
        *,
        events: ConnectionEvents | None = None,
        pending_limits: tuple[int, int] = (DEFAULT_PENDING_MSGS_LIMIT, DEFAULT_PENDING_BYTES_LIMIT),
        hooks: Hooks | None = None,
    ) -> None:
        self._nc = client
        self._log = log
        self.hooks = hooks  # None: nats-py's public API only (_natspy.py)
        self.events = events or ConnectionEvents(log)
        # Per subscription: messages and bytes held before nats-py drops (slow consumer).
        self.pending_msgs_limit, self.pending_bytes_limit = pending_limits
        self._router: DirectRouter | None = None
        if hooks is not None:
            router = self._router = DirectRouter(hooks, _slow_consumer, log)
            # Routed messages skip nats-py's regex parser too.
            hooks.replace_parser(lambda nc, ops: RoutingParser(nc, ops, router))

    @property
    def reconnects(self) -> int:
        """Reconnects since the first connect."""
        return self.events.reconnects

    @reconnects.setter
    def reconnects(self, value: int) -> None:
        self.events.reconnects = value

    @property
    def errors(self) -> int:
        """Errors nats-py reported by callback since the first connect."""
        return self.events.errors

    @errors.setter
    def errors(self, value: int) -> None:
        self.events.errors = value

    @property
    def direct_delivery(self) -> bool:
        """True when `subscribe_direct` bypasses nats-py's per-message queue (direct.py) and
        nats-py's parser (reader.py)."""
        return self._router is not None

    @property
    def client(self) -> Client:
        """The nats-py client, for the rest of the connection layer (js_streams.py) only."""
        return self._nc

    @property
    def is_connected(self) -> bool:
        """True while the client has a working connection to a server."""
        return bool(self._nc.is_connected)

    @property
    def connected_url(self) -> str | None:
        """The server currently connected to, password masked."""
        url = self._nc.connected_url
        return mask_url(url.geturl()) if url is not None else None

    async def publish(
        self,
        subject: str,
        payload: bytes,
        headers: dict[str, str] | None = None,
        reply: str = "",
    ) -> None:
        """Queue one message for sending (buffered while reconnecting)."""
        try:
            await self._nc.publish(subject, payload, reply=reply, headers=headers)
        except CLIENT_ERRORS as exc:
            raise map_error(exc) from exc

    async def publish_with_id(self, subject: str, payload: bytes, msg_id: str) -> None:
        """Publish with a `Nats-Msg-Id` header: the hot path, one prebuilt frame per message.

        nats-py's `publish(headers=...)` re-validates and re-encodes the header dict on every
        call; here the frame is built in one go (wire.py) and queued as nats-py itself would.
        """
        nc, hooks = self._nc, self.hooks
        if hooks is None or not nc.is_connected or len(payload) > nc.max_payload:
            await self.publish(subject, payload, {"Nats-Msg-Id": msg_id})
            return
        if nc.is_draining_pubs:
            raise NatsClosedError("the connection is draining")
        stats = hooks.stats
        stats["out_msgs"] += 1
        stats["out_bytes"] += len(payload)
        try:
            await hooks.send(hpub_frame(subject, msg_id, payload))
        except CLIENT_ERRORS as exc:
            raise map_error(exc) from exc

    async def subscribe(
        self, subject: str, handler: MessageHandler, queue: str | None = None
    ) -> None:
        """Deliver every message on `subject` (optionally in a queue group) to `handler`."""
        try:
            await self._nc.subscribe(
                subject,
                queue=queue or "",
                cb=handler,
                pending_msgs_limit=self.pending_msgs_limit,
                pending_bytes_limit=self.pending_bytes_limit,
            )
        except CLIENT_ERRORS as exc:
            raise map_error(exc) from exc

    async def subscribe_direct(
        self,
        subject: str,
        handler: DirectHandler,
        queue: str | None = None,
        *,
        headers: bool = False,
    ) -> Unsubscribe:
        """Core NATS, the fast path: `handler(subject, reply, data, headers)` gets every message.

        The handler is a plain function called once per message, in order, in batches once per
        event-loop turn (direct.py); `headers` says whether it wants them parsed (else None).
        Pending limits and slow-consumer drops work as with `subscribe`. Returns a function that
        ends the subscription.
        """

        async def fallback(msg: Delivery) -> None:  # nats-py without the internals we hook
            handler(msg.subject, msg.reply, msg.data, msg.headers if headers else None)

        try:
            sub = await self._nc.subscribe(
                subject,
                queue=queue or "",
                cb=fallback,
                pending_msgs_limit=self.pending_msgs_limit,
                pending_bytes_limit=self.pending_bytes_limit,
            )
        except CLIENT_ERRORS as exc:
            raise map_error(exc) from exc
        router, hooks = self._router, self.hooks
        sid = hooks.sid(sub) if hooks is not None else None
        if router is not None and sid is not None:
            router.route(
                sid,
                handler,
                wants_headers=headers,
                max_msgs=self.pending_msgs_limit,
                max_bytes=self.pending_bytes_limit,
            )

        async def unsubscribe() -> None:
            try:
                await sub.unsubscribe()
            except CLIENT_ERRORS as exc:
                raise map_error(exc) from exc
            finally:
                if router is not None and sid is not None:
                    router.forget(sid)

        return unsubscribe

    async def flush(self, timeout: float = 10.0) -> None:
        """Wait until everything published so far has reached the server."""
        # A single flush was seen returning with publishes still queued behind its PING;
        # the second one is the barrier that proves the first batch is out.
        try:
            await self._nc.flush(timeout=max(1, round(timeout)))
            await self._nc.flush(timeout=max(1, round(timeout)))
        except CLIENT_ERRORS as exc:
            raise map_error(exc) from exc

    async def drain(self) -> None:
        """Stop subscriptions after their pending messages, flush publishes, and close."""
        self.events.closing = True
        self.events.flush()
        if self._nc.is_closed:
            return
        try:
            await self._nc.drain()
        except CLIENT_ERRORS as exc:
            self._log.warning("Drain did not complete", error=str(map_error(exc)))
            await self.close()

    async def close(self) -> None:
        """Close at once, dropping anything unsent."""
        self.events.closing = True
        if not self._nc.is_closed:
            try:
                await self._nc.close()
            except CLIENT_ERRORS as exc:  # closing after a lost connection: nothing to save
                self._log.warning("Close did not complete cleanly", error=str(map_error(exc)))


def _slow_consumer(subject: str, sid: int) -> Exception:
    """The error nats-py itself reports for a message dropped over a pending limit."""
    return nerr.SlowConsumerError(subject=subject, reply="", sid=sid, sub=None)  # type: ignore[arg-type]
