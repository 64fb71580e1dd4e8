"""`nats-pubsub publish`: build events, publish them on an interval, log each one."""

from __future__ import annotations

import asyncio
import time

from nats_pubsub.config import PUBLISH_TEMPLATE_FIELDS, PublisherSettings
from nats_pubsub.connection import connect
from nats_pubsub.errors import NatsError
from nats_pubsub.lifecycle import wait_or_stop
from nats_pubsub.logs import Logger
from nats_pubsub.schema import EventFactory, encode
from nats_pubsub.stats import PublishStats
from nats_pubsub.subjects import SubjectTemplate
from nats_pubsub.timeutil import now_timestamp

__all__ = ["METRICS_EVERY", "run_publisher"]

METRICS_EVERY = 50
# With no interval, give the event loop (flusher, signal handlers, log writes) a turn this often.
_YIELD_EVERY = 128


async def run_publisher(settings: PublisherSettings, log: Logger, stop: asyncio.Event) -> int:
    """Publish until stopped or `count` messages are out; return the exit code."""
    try:
        conn = await connect(settings, name=f"publisher-{settings.hostname}", log=log, stop=stop)
    except NatsError as exc:
        log.error("Could not connect to NATS", error=str(exc))
        return 0 if stop.is_set() else 1
    factory = EventFactory(settings.hostname, settings.event_types)
    template = SubjectTemplate(settings.nats_subject, PUBLISH_TEMPLATE_FIELDS)
    stats = PublishStats()
    interval = settings.publish_interval
    count = settings.count
    log.info(
        "Publisher started",
        subject=settings.nats_subject,
        interval_seconds=interval,
        count=count,
        source=settings.hostname,
    )
    next_at = time.monotonic()
    try:
        while not stop.is_set():
            msg = factory.next(now_timestamp())
            event_type = msg.data.event_type
            subject = template.render({"event_type": event_type, "source": msg.source})
            payload = encode(msg)
            try:
                await conn.publish(subject, payload, {"Nats-Msg-Id": msg.message_id})
            except NatsError as exc:
                stats.errors += 1
                log.error(
                    "Publish failed",
                    message_id=msg.message_id,
                    subject=subject,
                    error=str(exc),
                    error_type=type(exc).__name__,
                )
            else:
                stats.published += 1
                log.info(
                    "Message published",
                    message_id=msg.message_id,
                    subject=subject,
                    sequence=msg.sequence,
                    size_bytes=len(payload),
                    event_type=event_type,
                )
            if msg.sequence % METRICS_EVERY == 0:
                log.info("Publisher metrics", **stats.snapshot())
            if count is not None and msg.sequence >= count:
                break
            if interval > 0:
                next_at += interval
                delay = next_at - time.monotonic()
                if delay < 0:  # fell behind (e.g. a slow reconnect): do not burst to catch up
                    next_at, delay = time.monotonic(), 0.0
                await wait_or_stop(stop, delay)
            elif msg.sequence % _YIELD_EVERY == 0:
                await asyncio.sleep(0)
    finally:
        try:
            await conn.flush(timeout=settings.drain_timeout)
        except NatsError as exc:
            log.warning("Flush before exit did not complete", error=str(exc))
        await conn.drain()
        log.info("Publisher metrics", final=True, **stats.snapshot())
    if count is not None and stats.errors:
        log.error("Not every message was published", failed=stats.errors, requested=count)
        return 1
    return 0
