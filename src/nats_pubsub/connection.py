"""The one module that talks to nats-py: connect with retries, events as logs, errors mapped.

Every nats-py exception that can leave this module is translated into our tree in `errors.py`
(see `_map_error`), so services never import `nats` and never see its exception types.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import nats
import nats.errors as nerr
from nats.aio.client import Client

from nats_pubsub.config import CommonSettings, mask_url
from nats_pubsub.errors import (
    NatsAuthError,
    NatsBufferFullError,
    NatsClosedError,
    NatsConnectError,
    NatsError,
    NatsPayloadTooLarge,
    NatsSubjectError,
    NatsTimeoutError,
)
from nats_pubsub.logs import Logger

__all__ = ["Connection", "Delivery", "MessageHandler", "connect"]

_MAX_CONNECT_BACKOFF = 10.0


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
    if isinstance(exc, nerr.AuthorizationError):
        return NatsAuthError(f"authorization failed: {text}")
    if isinstance(exc, ssl.SSLError | nerr.SecureConnFailedError):
        return NatsAuthError(f"TLS failed: {text}")
    if isinstance(exc, nerr.NoServersError | OSError):
        return NatsConnectError(text)
    return NatsError(text)


class Connection:
    """A live NATS connection: publish, subscribe, flush, drain."""

    def __init__(self, client: Client, log: Logger) -> None:
        self._nc = client
        self._log = log
        self.reconnects = 0
        self.errors = 0
        self.closing = False
        self.failed_reconnects = 0

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
        except (nerr.Error, OSError) as exc:
            raise _map_error(exc) from exc

    async def subscribe(
        self, subject: str, handler: MessageHandler, queue: str | None = None
    ) -> None:
        """Deliver every message on `subject` (optionally in a queue group) to `handler`."""
        try:
            await self._nc.subscribe(subject, queue=queue or "", cb=handler)
        except (nerr.Error, OSError) as exc:
            raise _map_error(exc) from exc

    async def flush(self, timeout: float = 10.0) -> None:  # noqa: ASYNC109 - maps to nats-py
        """Wait until everything published so far has reached the server."""
        # A single flush was seen returning with publishes still queued behind its PING;
        # the second one is the barrier that proves the first batch is out.
        try:
            await self._nc.flush(timeout=max(1, round(timeout)))
            await self._nc.flush(timeout=max(1, round(timeout)))
        except (TimeoutError, nerr.Error, OSError) as exc:
            raise _map_error(exc) from exc

    async def drain(self) -> None:
        """Stop subscriptions after their pending messages, flush publishes, and close."""
        self.closing = True
        if self._nc.is_closed:
            return
        try:
            await self._nc.drain()
        except (TimeoutError, nerr.Error, OSError) as exc:
            self._log.warning("Drain did not complete", error=str(_map_error(exc)))
            await self._nc.close()

    async def close(self) -> None:
        """Close at once, dropping anything unsent."""
        self.closing = True
        if not self._nc.is_closed:
            await self._nc.close()


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

    first_errors: list[BaseException] = []

    async def on_error(exc: Exception) -> None:
        if not holder:
            first_errors.append(exc)  # the first connect reports its own failures below
            return
        conn = holder[0]
        conn.errors += 1
        if isinstance(exc, OSError | asyncio.TimeoutError) and not conn.is_connected:
            # A failed reconnect attempt: say so on a log scale (1, 2, 4, 8...), not every time.
            conn.failed_reconnects += 1
            if conn.failed_reconnects & (conn.failed_reconnects - 1) == 0:
                log.warning(
                    "Reconnect attempt failed",
                    attempts=conn.failed_reconnects,
                    error=str(_map_error(exc)),
                )
            return
        log.error("NATS error", error=str(_map_error(exc)), error_type=type(exc).__name__)

    async def on_disconnected() -> None:
        if not (holder and holder[0].closing):
            log.warning("Disconnected from NATS")

    async def on_reconnected() -> None:
        if holder:
            holder[0].reconnects += 1
            holder[0].failed_reconnects = 0
            log.info("Reconnected to NATS", url=holder[0].connected_url)

    async def on_closed() -> None:
        log.info("Connection closed")

    options: dict[str, Any] = {
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
        "disconnected_cb": on_disconnected,
        "reconnected_cb": on_reconnected,
        "closed_cb": on_closed,
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
    connection = Connection(client, log)
    holder.append(connection)
    log.info("Connected to NATS", url=connection.connected_url, connection_name=name)
    return connection
