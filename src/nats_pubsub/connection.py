"""The one module that talks to nats-py: connect with retries, events as logs, errors mapped.

Every nats-py exception that can leave this module is translated into our tree in `errors.py`
(see `client_errors.map_error`), so services never import `nats` and never see its exception types.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import nats
import nats.errors as nerr
from nats.aio.client import Client

from nats_pubsub.client_errors import (
    CLIENT_ERRORS,
    REFUSALS_BEFORE_GIVING_UP,
    map_error,
    server_dropped_us,
)
from nats_pubsub.config import CommonSettings, mask_url
from nats_pubsub.config.security import DEFAULT_PENDING_BYTES_LIMIT, DEFAULT_PENDING_MSGS_LIMIT
from nats_pubsub.connection_events import ConnectionEvents
from nats_pubsub.errors import (
    NatsAuthError,
    NatsClosedError,
    NatsConnectError,
)
from nats_pubsub.logs import Logger
from nats_pubsub.security import auth_method, client_security_options
from nats_pubsub.wire import hpub_frame

__all__ = ["Connection", "Delivery", "MessageHandler", "connect"]

_MAX_CONNECT_BACKOFF = 10.0
# The publish fast path queues frames the way nats-py does internally; used only when this
# nats-py has those internals (checked per client), else the public publish() is used.
_FAST_PATH_ATTRS = ("_send_command", "_flush_pending", "_flush_queue", "_max_payload", "stats")


class Delivery(Protocol):
    """What a message handler receives: the fields of a delivered NATS message."""

    subject: str
    reply: str
    data: bytes
    headers: dict[str, str] | None


MessageHandler = Callable[[Delivery], Awaitable[None]]


class Connection:
    """A live NATS connection: publish, subscribe, flush, drain."""

    def __init__(
        self,
        client: Client,
        log: Logger,
        *,
        events: ConnectionEvents | None = None,
        pending_limits: tuple[int, int] = (DEFAULT_PENDING_MSGS_LIMIT, DEFAULT_PENDING_BYTES_LIMIT),
    ) -> None:
        self._nc = client
        self._log = log
        self.fast_publish = all(hasattr(client, name) for name in _FAST_PATH_ATTRS)
        self.events = events or ConnectionEvents(log)
        # Per subscription: messages and bytes held before nats-py drops (slow consumer).
        self.pending_msgs_limit, self.pending_bytes_limit = pending_limits

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
    def client(self) -> Client:
        """The nats-py client, for the rest of the connection layer (jetstream.py) only."""
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
        self, subject: str, payload: bytes, headers: dict[str, str] | None = None
    ) -> None:
        """Queue one message for sending (buffered while reconnecting)."""
        try:
            await self._nc.publish(subject, payload, headers=headers)
        except CLIENT_ERRORS as exc:
            raise map_error(exc) from exc

    async def publish_with_id(self, subject: str, payload: bytes, msg_id: str) -> None:
        """Publish with a `Nats-Msg-Id` header: the hot path, one prebuilt frame per message.

        nats-py's `publish(headers=...)` re-validates and re-encodes the header dict on every
        call; here the frame is built in one go (wire.py) and queued as nats-py itself would.
        """
        nc = self._nc
        if not self.fast_publish or not nc.is_connected or len(payload) > nc._max_payload:
            await self.publish(subject, payload, {"Nats-Msg-Id": msg_id})
            return
        if nc.is_draining_pubs:
            raise NatsClosedError("the connection is draining")
        nc.stats["out_msgs"] += 1
        nc.stats["out_bytes"] += len(payload)
        try:
            await nc._send_command(hpub_frame(subject, msg_id, payload))
            if nc._flush_queue is not None and nc._flush_queue.empty():
                await nc._flush_pending()
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


async def connect(
    settings: CommonSettings,
    *,
    name: str,
    log: Logger,
    stop: asyncio.Event | None = None,
) -> Connection:
    """Connect to the first reachable server, retrying until it is up or `stop` is set.

    Raises NatsAuthError at once when the server refuses our credentials (retrying cannot help),
    and NatsConnectError when `stop` is set before any server answered.
    """
    servers = settings.servers
    shown = ",".join(mask_url(url) for url in servers)
    holder: list[Connection] = []
    events = ConnectionEvents(log)
    first_errors: list[BaseException] = []

    async def on_error(exc: Exception) -> None:
        if not holder:
            first_errors.append(exc)  # the first connect reports its own failures below
            return
        transport = isinstance(exc, OSError | asyncio.TimeoutError) and not isinstance(
            exc, nerr.FlushTimeoutError
        )
        events.error(map_error(exc), reconnecting=transport and not holder[0].is_connected)

    async def on_reconnected() -> None:
        events.reconnected(holder[0].connected_url if holder else None)

    options: dict[str, Any] = {
        **client_security_options(settings, servers),
        "pending_size": settings.reconnect_buffer_size,
        # A publish that fills the buffer waits for a flush; without a limit that wait never
        # ends if the connection drops meanwhile (the flusher is gone), and the publisher hangs.
        "flush_timeout": settings.connect_timeout,
        "servers": servers,
        "name": name,
        # nats-py would retry a first connect forever, silently and even on bad credentials.
        # So the first connect tries each server twice and fails; the loop below retries with
        # our backoff and log lines. Reconnecting forever is switched on once connected
        # (nats-py reads both options when a connection drops).
        "allow_reconnect": False,
        "max_reconnect_attempts": 1,
        "reconnect_time_wait": settings.reconnect_wait,
        "connect_timeout": settings.connect_timeout,
        "drain_timeout": settings.drain_timeout,
        "error_cb": on_error,
        "disconnected_cb": events.on_disconnected,
        "reconnected_cb": on_reconnected,
        "closed_cb": events.on_closed,
    }
    attempt = dropped = 0
    while True:
        attempt += 1
        try:
            client = await nats.connect(**options)
            break
        except (TimeoutError, nerr.Error, OSError) as exc:
            # "no servers available" hides the cause; the last error seen says what it was.
            cause = first_errors[-1] if first_errors else exc
            first_errors.clear()
            mapped = map_error(cause)
            if isinstance(mapped, NatsAuthError):
                raise mapped from exc
            dropped = dropped + 1 if server_dropped_us(cause) else 0
            if dropped >= REFUSALS_BEFORE_GIVING_UP:
                raise NatsAuthError(
                    f"the server at {shown} accepted the connection and closed it during the "
                    f"handshake {dropped} times in a row ({mapped}): it refuses this client; "
                    "check the TLS client certificate (NATS_CERT / NATS_KEY), the credentials, "
                    "and that the URL points at a NATS client port"
                ) from exc
            delay = min(settings.reconnect_wait * attempt, _MAX_CONNECT_BACKOFF)
            log.warning(
                "NATS not reachable, retrying",
                url=shown,
                attempt=attempt,
                retry_in_seconds=round(delay, 2),
                error=str(mapped),
            )
            if stop is None:
                await asyncio.sleep(delay)
                continue
            try:
                await asyncio.wait_for(stop.wait(), delay)
            except TimeoutError:
                continue
            raise NatsConnectError(f"stopped before NATS at {shown} was reachable") from exc
    client.options["allow_reconnect"] = True
    client.options["max_reconnect_attempts"] = -1
    pending = (settings.pending_msgs_limit, settings.pending_bytes_limit)
    connection = Connection(client, log, events=events, pending_limits=pending)
    holder.append(connection)
    events.url = connection.connected_url
    log.info(
        "Connected to NATS",
        url=connection.connected_url,
        connection_name=name,
        auth=auth_method(settings),
        tls="tls" in options,
    )
    return connection
