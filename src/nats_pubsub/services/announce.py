"""A long-running service's counters, handed out: to its metrics endpoint (when it has one) and
to the NATS service API (ADR-32), which it answers while it runs, so the dashboard,
`nats-pubsub services` and `nats micro ls` find it."""

from __future__ import annotations

from functools import partial
from typing import Any, Final

from nats_pubsub.connection.core import Connection
from nats_pubsub.connection.service_api import Announcement, announce
from nats_pubsub.domain.service_api import SERVICE_NAMES, service_counters
from nats_pubsub.errors import NatsError
from nats_pubsub.logs.logger import Logger
from nats_pubsub.observability.health import expose

__all__ = ["announce_service"]

_DESCRIPTIONS: Final = {
    "publish": "Publishes generic events",
    "subscribe": "Validates and logs every event with its latency",
    "payments": "Simulates credit card transactions",
    "monitor": "Captures every message, declines and failures at ERROR",
}


async def announce_service(
    conn: Connection, command: str, settings: Any, log: Logger, **stats: Any
) -> Announcement | None:
    """Expose the service's counters (`stats`: publish=, receive=, payments=, capture=,
    consume=) to its metrics endpoint, and answer the service API as `command` unless
    SERVICE_API=false; None, with a WARNING, when it cannot: the service itself runs on."""
    expose(conn, **stats)
    if not settings.service_api:
        return None
    try:
        return await announce(
            conn,
            SERVICE_NAMES[command],
            _DESCRIPTIONS[command],
            {"hostname": settings.hostname},
            partial(service_counters, **stats),
        )
    except NatsError as exc:
        log.warning("Service API not answered", error=str(exc))
        return None
