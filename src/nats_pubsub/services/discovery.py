"""`nats-pubsub services`: every service that answers the NATS service API, as a table or JSON."""

from __future__ import annotations

import asyncio
import sys
import time
from typing import Any

import msgspec

from nats_pubsub.config import ServicesSettings
from nats_pubsub.config.client import connect_options
from nats_pubsub.connection.connect import ConnectLimit, connect
from nats_pubsub.connection.service_api import gather
from nats_pubsub.domain.service_api import STATS_SUBJECT, ServiceBook, ServiceRow, parse_stats
from nats_pubsub.errors import NatsError
from nats_pubsub.logs.logger import Logger

__all__ = ["format_table", "run_services"]

_COLUMNS = ("service", "host", "id", "version", "uptime", "counters")


def _uptime(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    total = int(seconds)
    hours, rest = divmod(total, 3600)
    return f"{hours}h{rest // 60:02d}m" if hours else f"{rest // 60}m{rest % 60:02d}s"


def _cells(row: ServiceRow) -> list[str]:
    counters = " ".join(f"{key}={value}" for key, value in row.stats.items())
    return [row.name, row.hostname, row.id, row.version, _uptime(row.uptime_seconds), counters]


def format_table(rows: list[ServiceRow]) -> str:
    """The rows as an aligned text table (the counters last, as long as they are)."""
    lines = [list(_COLUMNS), *(_cells(row) for row in rows)]
    widths = [max(len(line[i]) for line in lines) for i in range(len(_COLUMNS) - 1)]
    return "\n".join(
        "  ".join([*(c.ljust(w) for c, w in zip(line, widths, strict=False)), line[-1]]).rstrip()
        for line in lines
    )


async def run_services(
    settings: ServicesSettings, log: Logger, stop: asyncio.Event, *, as_json: bool
) -> int:
    """Ask `$SRV.STATS` once, print who answered; 1 when NATS could not be asked."""
    limit = ConnectLimit(settings.connect_timeout, "--connect-timeout")
    name = f"services-{settings.hostname}"
    try:
        options = connect_options(settings)
        conn = await connect(options, name=name, log=log, stop=stop, limit=limit, quiet=True)
    except NatsError as exc:
        log.error("Could not connect to NATS", error=str(exc))
        return 1
    try:
        answers = await gather(conn, STATS_SUBJECT, wait=settings.wait)
    except NatsError as exc:
        log.error("Services request failed", error=str(exc))
        return 1
    finally:
        await conn.drain()
    book = ServiceBook()
    book.record([s for s in map(parse_stats, answers) if s is not None], 0.0, time.time_ns())
    rows = book.rows(0.0, time.time_ns())
    if as_json:
        listed: list[Any] = [msgspec.to_builtins(row) for row in rows]
        sys.stdout.buffer.write(msgspec.json.encode(listed) + b"\n")
    else:
        sys.stdout.write((format_table(rows) if rows else "no service answered") + "\n")
    sys.stdout.flush()
    return 0
