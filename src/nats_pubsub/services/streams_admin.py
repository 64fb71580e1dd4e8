"""`nats-pubsub streams`: a small admin view of the server's streams, and provisioning."""

from __future__ import annotations

import asyncio
import sys
from typing import Any

import msgspec

from nats_pubsub.config import StreamsSettings
from nats_pubsub.config.client import connect_options
from nats_pubsub.connection.connect import ConnectLimit, connect
from nats_pubsub.connection.js_streams import JetStream
from nats_pubsub.domain.stream_rules import DEFAULT_STREAMS
from nats_pubsub.errors import NatsError
from nats_pubsub.logs.logger import Logger

__all__ = ["format_table", "run_streams", "stream_rows"]

_COLUMNS = ("stream", "subjects", "messages", "bytes", "first_seq", "last_seq", "consumers")


def stream_rows(infos: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per stream, from the server's stream info objects."""
    rows = []
    for info in infos:
        config, state = info.get("config", {}), info.get("state", {})
        rows.append(
            {
                "stream": config.get("name"),
                "subjects": config.get("subjects") or [],
                "messages": state.get("messages", 0),
                "bytes": state.get("bytes", 0),
                "first_seq": state.get("first_seq", 0),
                "last_seq": state.get("last_seq", 0),
                "consumers": state.get("consumer_count", 0),
                "replicas": config.get("num_replicas", 1),
            }
        )
    return sorted(rows, key=lambda row: str(row["stream"]))


def format_table(rows: list[dict[str, Any]]) -> str:
    """The rows as an aligned text table."""
    cells = [list(_COLUMNS)] + [
        [", ".join(v) if isinstance(v, list) else str(v) for v in (row[c] for c in _COLUMNS)]
        for row in rows
    ]
    widths = [max(len(line[i]) for line in cells) for i in range(len(_COLUMNS))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        for line in cells
    )


async def run_streams(
    settings: StreamsSettings, log: Logger, stop: asyncio.Event, *, as_json: bool, ensure: bool
) -> int:
    """Print the streams (after creating the default ones when `ensure`)."""
    limit = ConnectLimit(settings.connect_timeout, "--connect-timeout")
    name = f"streams-{settings.hostname}"
    try:
        options = connect_options(settings)
        conn = await connect(options, name=name, log=log, stop=stop, limit=limit, quiet=True)
    except NatsError as exc:
        log.error("Could not connect to NATS", error=str(exc))
        return 1
    js = JetStream(conn, log)
    try:
        if ensure:
            for spec in DEFAULT_STREAMS.values():
                given = "stream_replicas" in settings.model_fields_set
                limits = frozenset({"replicas"}) if given else frozenset()
                await js.ensure_stream(spec.with_limits(replicas=settings.stream_replicas), limits)
        rows = stream_rows(await js.stream_infos())
    except NatsError as exc:
        log.error("Streams request failed", error=str(exc))
        return 1
    finally:
        await conn.drain()
    if as_json:
        sys.stdout.buffer.write(msgspec.json.encode(rows) + b"\n")
    else:
        sys.stdout.write((format_table(rows) if rows else "no streams") + "\n")
    sys.stdout.flush()
    return 0
