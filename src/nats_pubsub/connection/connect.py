"""Connecting to NATS: the first connect retried with backoff, then reconnecting forever.

nats-py would retry a first connect forever and silently, even on bad credentials; `connect` lets
it try each server twice and retries in its own loop, with log records, a stop event, and an
immediate `NatsAuthError` when retrying cannot help.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any, NamedTuple

import nats.errors as nerr
from nats.aio.client import Client

from nats_pubsub.config.client import ConnectOptions
from nats_pubsub.config.common import mask_url
from nats_pubsub.connection import _natspy
from nats_pubsub.connection.auth import auth_method, client_security_options
from nats_pubsub.connection.callbacks import ConnectionEvents
from nats_pubsub.connection.core import Connection
from nats_pubsub.connection.error_map import REFUSALS_BEFORE_GIVING_UP, map_error, server_dropped_us
from nats_pubsub.connection.tls_guard import guard
from nats_pubsub.errors import NatsAuthError, NatsConnectError
from nats_pubsub.logs.logger import Logger

__all__ = ["ConnectLimit", "connect", "retry_wait"]

_MAX_CONNECT_BACKOFF = 10.0
_LAST_TRY = 0.25  # seconds kept before a deadline for one last attempt


class ConnectLimit(NamedTuple):
    """How long a first connect may keep trying, and the setting that says so (for the error)."""

    seconds: float
    setting: str


def retry_wait(attempt: int, reconnect_wait: float, remaining: float | None) -> float | None:
    """Seconds to wait before retrying after failed `attempt` (growing by `reconnect_wait` up to
    10 s); None when no attempt fits in the `remaining` seconds of a limit."""
    delay = min(reconnect_wait * attempt, _MAX_CONNECT_BACKOFF)
    if remaining is None:
        return delay
    if remaining <= _LAST_TRY:
        return None
    return min(delay, remaining - _LAST_TRY)


async def connect(
    options: ConnectOptions,
    *,
    name: str,
    log: Logger,
    stop: asyncio.Event | None = None,
    limit: ConnectLimit | None = None,
    quiet: bool = False,
) -> Connection:
    """Connect to the first reachable server, retrying until it is up, `stop` is set or the
    `limit` has passed. `quiet` (one-shot commands): connecting and closing are DEBUG records.

    Raises NatsAuthError at once when the server refuses our credentials (retrying cannot help),
    and NatsConnectError when `stop` is set or the limit passes before any server answered.
    """
    servers = options.servers
    shown = ",".join(mask_url(url) for url in servers)
    holder: list[Connection] = []
    events = ConnectionEvents(log, quiet=quiet)
    first_errors: list[BaseException] = []

    async def on_error(exc: Exception) -> None:
        if not holder:
            first_errors.append(exc)  # the first connect reports its own failures below
            return
        # A reconnect refused by the TLS guard is a failed attempt like an unreachable server.
        transport = isinstance(
            exc, OSError | asyncio.TimeoutError | nerr.SecureConnWantedError
        ) and not isinstance(exc, nerr.FlushTimeoutError)
        events.error(map_error(exc), reconnecting=transport and not holder[0].is_connected)

    async def on_reconnected() -> None:
        events.reconnected(holder[0].connected_url if holder else None)

    client_options: dict[str, Any] = {
        **client_security_options(options.security, servers),
        "pending_size": options.reconnect_buffer_size,
        # A publish that fills the buffer waits for a flush; without a limit that wait never
        # ends if the connection drops meanwhile (the flusher is gone), and the publisher hangs.
        "flush_timeout": options.connect_timeout,
        "servers": servers,
        "name": name,
        # nats-py would retry a first connect forever, silently and even on bad credentials.
        # So the first connect tries each server twice, back to back, and fails; the loop below
        # retries with our backoff and log lines (the wait it logs is the wait there is).
        # Reconnecting forever, with its wait, is switched on once connected (nats-py reads
        # these options when a connection drops).
        "allow_reconnect": False,
        "max_reconnect_attempts": 1,
        "reconnect_time_wait": 0,
        "connect_timeout": options.connect_timeout,
        "drain_timeout": options.drain_timeout,
        "error_cb": on_error,
        "disconnected_cb": events.on_disconnected,
        "reconnected_cb": on_reconnected,
        "closed_cb": events.on_closed,
    }
    loop = asyncio.get_running_loop()
    deadline = None if limit is None else loop.time() + limit.seconds
    attempt = dropped = 0
    while True:
        attempt += 1
        client = Client()
        if "tls" in client_options:
            guard(client)  # TLS configured: CONNECT is never sent on a plain connection
        try:
            if deadline is None:
                await client.connect(**client_options)
            else:
                await asyncio.wait_for(
                    client.connect(**client_options), max(deadline - loop.time(), 0)
                )
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
            remaining = None if deadline is None else deadline - loop.time()
            delay = retry_wait(attempt, options.reconnect_wait, remaining)
            if delay is None:
                events.closing = True  # nothing left half open, and nothing to report
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(client.close(), 1.0)
                assert limit is not None
                why = "no answer" if isinstance(cause, TimeoutError) else str(mapped)
                raise NatsConnectError(
                    f"NATS at {shown} was not reachable within {limit.seconds:g} s "
                    f"({limit.setting}): {why}"
                ) from exc
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
    client.options["reconnect_time_wait"] = options.reconnect_wait
    pending = (options.pending_msgs_limit, options.pending_bytes_limit)
    connection = Connection(
        client, log, events=events, pending_limits=pending, hooks=_fast_path(client, log)
    )
    holder.append(connection)
    events.url = connection.connected_url
    log.log(
        "DEBUG" if quiet else "INFO",
        "Connected to NATS",
        {
            "url": connection.connected_url,
            "connection_name": name,
            "auth": auth_method(options.security),
            "tls": _natspy.client_uses_tls(client),
        },
    )
    return connection


def _fast_path(client: Client, log: Logger) -> _natspy.Hooks | None:
    """The fast path's hooks into this connected client, after one capability check; None when
    NATS_PUBSUB_FAST_PATH=0 or this nats-py lacks a name they use (said once, as a WARNING)."""
    if not _natspy.fast_path_wanted():
        return None
    missing = _natspy.missing_names(client)
    if missing:
        log.warning(
            "nats-py internals differ; using its public API only",
            nats_py=_natspy.nats_py_version(),
            missing=missing[:10],
            note="the same messages and records, slower; nats-py 2.16 is the tested version",
        )
        return None
    return _natspy.Hooks(client)
