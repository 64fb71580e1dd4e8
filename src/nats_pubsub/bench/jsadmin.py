"""JetStream chores around the JetStream benchmarks: provision a stream, count, delete it."""

from __future__ import annotations

import asyncio
from typing import Any

import nats

from nats_pubsub.bench.protocol import devnull_logger
from nats_pubsub.config import PublisherSettings
from nats_pubsub.config.client import connect_options
from nats_pubsub.connection.connect import connect
from nats_pubsub.connection.js_streams import JetStream
from nats_pubsub.services.options import stream_spec

__all__ = ["delete_stream", "ensure_stream", "stored"]


async def _ensure(url: str, subject: str, stream: str | None) -> str:
    settings = PublisherSettings(nats_url=url, nats_subject=subject, stream_name=stream)
    log, _ = devnull_logger("bench")
    conn = await connect(connect_options(settings), name="bench-admin", log=log)
    try:
        spec = stream_spec(settings, subject)
        await JetStream(conn, log).ensure_stream(spec)
        return spec.name
    finally:
        await conn.close()


def ensure_stream(url: str, subject: str, stream: str | None = None) -> str:
    """Create (or check) the stream our publisher would use for `subject`; its name."""
    return asyncio.run(_ensure(url, subject, stream))


async def _with_js(url: str, job: Any) -> Any:
    nc = await nats.connect(url, name="bench-admin")
    try:
        return await job(nc.jetstream())
    finally:
        await nc.close()


def stored(url: str, stream: str, subject: str) -> int:
    """How many messages `stream` holds on `subject`."""

    async def job(js: Any) -> int:
        info = await js.stream_info(stream, subjects_filter=subject)
        return int((info.state.subjects or {}).get(subject, 0))

    return int(asyncio.run(_with_js(url, job)))


def delete_stream(url: str, stream: str) -> None:
    """Remove a stream made for one benchmark run."""

    async def job(js: Any) -> None:
        await js.delete_stream(stream)

    asyncio.run(_with_js(url, job))
