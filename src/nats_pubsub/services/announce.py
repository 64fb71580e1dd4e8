"""Every long-running service answers the NATS service API (ADR-32) while it runs, so the
dashboard, `nats-pubsub services` and `nats micro ls` find it, with its own counters."""

from __future__ import annotations

from functools import partial
from typing import Any, Final

from nats_pubsub.connection.core import Connection
from nats_pubsub.connection.service_api import Announcement, announce
from nats_pubsub.domain.service_api import SERVICE_NAMES, service_counters
from nats_pubsub.errors import NatsError
from nats_pubsub.logs.logger import Logger

__all__ = ["announce_service"]

_DESCRIPTIONS: Final = {
    "publish": "Publishes generic events",
    "subscribe": "Validates and logs every event with its latency",
    "payments": "Simulates credit card transactions",
    "monitor": "Captures every message, declines and failures at ERROR",
}


async def announce_service(
    conn: Connection, command: str, hostname: str, log: Logger, **stats: Any
) -> Announcement | None:
    """Answer the service API as the service `command` runs, its counters read from `stats`
    (publish=, receive=, payments=, capture=, consume=); None, with a WARNING, when it cannot
    (e.g. not allowed to subscribe to `$SRV.>`): the service itself runs on."""
    try:
        return await announce(
            conn,
            SERVICE_NAMES[command],
            _DESCRIPTIONS[command],
            {"hostname": hostname},
            partial(service_counters, **stats),
        )
    except NatsError as exc:
        log.warning("Service API not answered", error=str(exc))
        return None
