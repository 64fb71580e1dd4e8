"""Connecting to NATS: the first connect retried with backoff, then reconnecting forever.

nats-py would retry a first connect forever and silently, even on bad credentials; `connect` lets
it try each server twice and retries in its own loop, with log records, a stop event, and an
immediate `NatsAuthError` when retrying cannot help.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import nats
import nats.errors as nerr

from nats_pubsub.client_errors import REFUSALS_BEFORE_GIVING_UP, map_error, server_dropped_us
from nats_pubsub.config.common import mask_url
from nats_pubsub.connection import Connection
from nats_pubsub.connection_events import ConnectionEvents
from nats_pubsub.errors import NatsAuthError, NatsConnectError
from nats_pubsub.logs import Logger
from nats_pubsub.security import auth_method, client_security_options

if TYPE_CHECKING:  # the service process runs from plain settings, without pydantic
    from nats_pubsub.config import CommonSettings

__all__ = ["connect"]

_MAX_CONNECT_BACKOFF = 10.0


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
