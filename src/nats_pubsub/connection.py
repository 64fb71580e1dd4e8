"""The one module that talks to nats-py: connect with retries, events as logs, errors mapped.

Every nats-py exception that can leave this module is translated into our tree in `errors.py`
(see `_map_error`), so services never import `nats` and never see its exception types.
"""

from __future__ import annotations

import asyncio
import re
import ssl
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import nats
import nats.errors as nerr
from nats.aio.client import Client

from nats_pubsub.config import CommonSettings, mask_url
from nats_pubsub.config.security import DEFAULT_PENDING_BYTES_LIMIT, DEFAULT_PENDING_MSGS_LIMIT
from nats_pubsub.connection_events import ConnectionEvents
from nats_pubsub.errors import (
    NatsAuthError,
    NatsBufferFullError,
    NatsClosedError,
    NatsConnectError,
    NatsError,
    NatsPayloadTooLarge,
    NatsPermissionError,
    NatsSlowConsumerError,
    NatsSubjectError,
    NatsTimeoutError,
)
from nats_pubsub.logs import Logger
from nats_pubsub.security import auth_method, client_security_options

__all__ = ["Connection", "Delivery", "MessageHandler", "connect"]

_MAX_CONNECT_BACKOFF = 10.0
_PERMISSION_TEXT = "permissions violation"
# nats-py raises RuntimeError when it writes to a transport that closed under it.
_CLIENT_ERRORS = (TimeoutError, nerr.Error, OSError, RuntimeError)
_AUTH_TEXT = re.compile(r"authorization violation|authentication", re.IGNORECASE)


class Delivery(Protocol):
    """What a message handler receives: the fields of a delivered NATS message."""

    subject: str
    reply: str
    data: bytes
    headers: dict[str, str] | None


MessageHandler = Callable[[Delivery], Awaitable[None]]


def _map_error(exc: BaseException) -> NatsError:
    """Translate a nats-py (or socket) failure into our exception tree."""
    text = str(exc) or type(exc).__name__
    if isinstance(exc, nerr.SlowConsumerError):
        return NatsSlowConsumerError(
            f"slow consumer: messages on {exc.subject} dropped, the pending limit was reached "
            "(raise PENDING_MSGS_LIMIT / PENDING_BYTES_LIMIT, or handle messages faster)"
        )
    if _PERMISSION_TEXT in text.lower():
        return NatsPermissionError(text.removeprefix("nats: "))
    if isinstance(exc, ssl.SSLCertVerificationError):
        return NatsAuthError(
            f"TLS failed: the server certificate is not trusted ({exc.verify_message}); "
            "set NATS_CA / --tlsca to the CA that signed it"
        )
    if isinstance(exc, nerr.OutboundBufferLimitError):
        return NatsBufferFullError(
            "the outbound buffer is full while NATS is unreachable; publishes are being dropped"
        )
    if isinstance(exc, nerr.MaxPayloadError):
        return NatsPayloadTooLarge(text)
    if isinstance(exc, nerr.BadSubjectError):
        return NatsSubjectError(text)
    if isinstance(exc, nerr.ConnectionClosedError | nerr.ConnectionDrainingError):
        return NatsClosedError("the connection is closed or draining")
    if isinstance(exc, nerr.TimeoutError | asyncio.TimeoutError):
        return NatsTimeoutError(text)
    if isinstance(exc, nerr.AuthorizationError) or _AUTH_TEXT.search(text):
        # On a first connect nats-py raises the server's -ERR as a plain Error: match its text.
        return NatsAuthError(f"authorization failed: {text}")
    if isinstance(exc, ssl.SSLError | nerr.SecureConnFailedError):
        return NatsAuthError(f"TLS failed: {text}")
    if isinstance(exc, nerr.NoServersError | OSError):
        return NatsConnectError(text)
    if isinstance(exc, RuntimeError):
        return NatsClosedError(f"the connection was lost while writing: {text}")
    return NatsError(text)


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
        except _CLIENT_ERRORS as exc:
            raise _map_error(exc) from exc

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
        except _CLIENT_ERRORS as exc:
            raise _map_error(exc) from exc

    async def flush(self, timeout: float = 10.0) -> None:
        """Wait until everything published so far has reached the server."""
        # A single flush was seen returning with publishes still queued behind its PING;
        # the second one is the barrier that proves the first batch is out.
        try:
            await self._nc.flush(timeout=max(1, round(timeout)))
            await self._nc.flush(timeout=max(1, round(timeout)))
        except _CLIENT_ERRORS as exc:
            raise _map_error(exc) from exc

    async def drain(self) -> None:
        """Stop subscriptions after their pending messages, flush publishes, and close."""
        self.events.closing = True
        self.events.flush()
        if self._nc.is_closed:
            return
        try:
            await self._nc.drain()
        except _CLIENT_ERRORS as exc:
            self._log.warning("Drain did not complete", error=str(_map_error(exc)))
            await self.close()

    async def close(self) -> None:
        """Close at once, dropping anything unsent."""
        self.events.closing = True
        if not self._nc.is_closed:
            try:
                await self._nc.close()
            except _CLIENT_ERRORS as exc:  # closing after a lost connection: nothing to save
                self._log.warning("Close did not complete cleanly", error=str(_map_error(exc)))


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
        events.error(_map_error(exc), reconnecting=transport and not holder[0].is_connected)

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
    attempt = 0
    while True:
        attempt += 1
        try:
            client = await nats.connect(**options)
            break
        except (TimeoutError, nerr.Error, OSError) as exc:
            # "no servers available" hides the cause; the last error seen says what it was.
            cause = first_errors[-1] if first_errors else exc
            first_errors.clear()
            mapped = _map_error(cause)
            if isinstance(mapped, NatsAuthError):
                raise mapped from exc
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
