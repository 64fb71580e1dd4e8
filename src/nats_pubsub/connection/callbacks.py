"""What happens to a live connection, counted and said in log records (errors already mapped).

nats-py reports disconnects, reconnects and asynchronous errors through callbacks; connect.py
maps the errors into our tree and hands everything here. Floods (a failed reconnect every few
hundred milliseconds, one slow-consumer error per dropped message) become a few records.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from nats_pubsub.domain.sequencing import BurstReport
from nats_pubsub.errors import (
    NatsConnectionLost,
    NatsError,
    NatsPermissionError,
    NatsSlowConsumerError,
)
from nats_pubsub.logs.logger import Logger

__all__ = ["ConnectionEvents", "is_power_of_two"]

_SERVER_SLOW_CONSUMER = "slow consumer"
_SERVER_CLOSED = "unexpected eof"
_SLOW_CONSUMER_HINT = (
    "the server cut this connection off because it fell behind (its max_pending); messages "
    "sent meanwhile are lost: see the lost counter, handle messages faster or use JetStream"
)
# nats-server closes a slow consumer's connection without an -ERR: all the client sees is EOF.
# A server that was itself restarting would usually make some reconnect attempts fail first.
_CLOSED_BY_SERVER_HINT = (
    "the server closed a working connection and took it back at once: if this client was "
    "receiving a burst, the server most likely cut it off as a slow consumer (its log says "
    "'Slow Consumer'); messages sent meanwhile are lost: see the lost counter"
)


# A subscription the NATS service API needs ($SRV.PING, ..., and our `status` endpoint),
# refused by the server (the error text comes lower-cased).
_SERVICE_API_SUBSCRIPTIONS = ('subscription to "$srv.', 'subscription to "nats-pubsub.status.')
_SERVICE_API_HINT = (
    "this user may not subscribe to $SRV.>, so NATS tools and the dashboard cannot find the "
    "service: allow subscribing to $SRV.> and publishing to _INBOX.>, or set SERVICE_API=false"
)


def _refuses_service_api(text: str) -> bool:
    lowered = text.lower()
    return any(part in lowered for part in _SERVICE_API_SUBSCRIPTIONS)


def is_power_of_two(n: int) -> bool:
    """True for 1, 2, 4, 8...: the attempts worth a log record on a log scale."""
    return n > 0 and n & (n - 1) == 0


class ConnectionEvents:
    """Counters and records for one connection's disconnects, reconnects and async errors."""

    def __init__(self, log: Logger, *, quiet: bool = False) -> None:
        self._log = log
        self._closed_level = "DEBUG" if quiet else "INFO"  # one-shot commands: no chatter
        self.reconnects = 0
        self.errors = 0
        self.failed_reconnects = 0
        self.permission_errors = 0
        self.service_api_refused = 0  # subscriptions to $SRV.… the server refused
        self.slow_consumer_dropped = 0
        self.closing = False
        self.server_slow_consumer = False  # the server said we were too slow: name it on reconnect
        self.server_closed = False  # the server ended the connection (EOF), cause unsaid
        self.url: str | None = None  # the server connected to
        self._lost: str | None = None  # why the connection ended: said with `Disconnected`
        # Called once per permission violation (e.g. a publisher counting it as a failed publish).
        self.on_permission_error: Callable[[], None] | None = None
        self._bursts = BurstReport(interval=1.0)

    def error(self, exc: NatsError, *, reconnecting: bool) -> None:
        """An error nats-py reported by callback (`reconnecting`: a failed reconnect attempt)."""
        self.errors += 1
        if reconnecting:
            self.failed_reconnects += 1
            if is_power_of_two(self.failed_reconnects):
                self._log.warning(
                    "Reconnect attempt failed", attempts=self.failed_reconnects, error=str(exc)
                )
            return
        if isinstance(exc, NatsPermissionError) and _refuses_service_api(str(exc)):
            self.service_api_refused += 1  # not the service's own work: said once, not counted
            if self.service_api_refused == 1:
                self._log.warning("Service API not allowed", error=str(exc), hint=_SERVICE_API_HINT)
            return
        if isinstance(exc, NatsPermissionError):
            self.permission_errors += 1
            if self.on_permission_error is not None:
                self.on_permission_error()
            self._log.error("Permission denied", error=str(exc), total=self.permission_errors)
            return
        if isinstance(exc, NatsSlowConsumerError):
            # nats-py reports every dropped message; say so once per burst, with the count.
            self.slow_consumer_dropped += 1
            dropped = self._bursts.add("slow_consumer", 1, time.monotonic())
            if dropped is not None:
                self._slow_consumer_record(dropped, str(exc))
            return
        text = str(exc).lower()
        if _SERVER_SLOW_CONSUMER in text:
            self.server_slow_consumer = True
        elif _SERVER_CLOSED in text:
            self.server_closed = True
        if isinstance(exc, NatsConnectionLost) or _SERVER_CLOSED in text:
            # A server stopping or a dropped socket: a transition, not a fault. nats-py reports
            # the disconnect next; that WARNING record carries this cause.
            self._lost = str(exc)
            return
        self._log.error("NATS error", error=str(exc), error_type=type(exc).__name__)

    def _slow_consumer_record(self, dropped: int, error: str | None = None) -> None:
        self._log.warning(
            "Slow consumer, messages dropped",
            dropped=dropped,
            total_dropped=self.slow_consumer_dropped,
            error=error,
        )

    async def on_disconnected(self) -> None:
        """The connection dropped (not reported while we close it on purpose)."""
        lost, self._lost = self._lost, None
        if not self.closing:
            self._log.log("WARNING", "Disconnected from NATS", {"error": lost} if lost else {})

    def reconnected(self, url: str | None) -> None:
        """A reconnect succeeded, to `url`."""
        self.reconnects += 1
        at_once = self.failed_reconnects == 0 and url == self.url
        self.failed_reconnects = 0
        self._lost = None
        self.url = url
        slow, closed, self.server_slow_consumer, self.server_closed = (
            self.server_slow_consumer,
            self.server_closed,
            False,
            False,
        )
        if slow:
            self._log.warning(
                "Reconnected to NATS", url=url, cause="slow consumer", hint=_SLOW_CONSUMER_HINT
            )
        elif closed and at_once:
            self._log.warning(
                "Reconnected to NATS",
                url=url,
                cause="closed by the server",
                hint=_CLOSED_BY_SERVER_HINT,
            )
        else:
            self._log.info("Reconnected to NATS", url=url)

    async def on_closed(self) -> None:
        """The connection is closed for good (said only of one that was made)."""
        if self.url is not None:
            self._log.log(self._closed_level, "Connection closed", {})

    def flush(self) -> None:
        """Log what the per-burst summaries still hold (at shutdown)."""
        for dropped in self._bursts.drain().values():
            self._slow_consumer_record(dropped)
