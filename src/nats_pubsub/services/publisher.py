"""`nats-pubsub publish`: build events, publish them on an interval, log each one."""

from __future__ import annotations

import asyncio

from nats_pubsub.config import PUBLISH_TEMPLATE_FIELDS, PublisherSettings
from nats_pubsub.connection import connect
from nats_pubsub.errors import NatsError
from nats_pubsub.health import expose
from nats_pubsub.lifecycle import Pacer
from nats_pubsub.logs import Logger
from nats_pubsub.schema import EventFactory, EventMessage, encode
from nats_pubsub.services.outbox import Outbox, PubAckInfo, js_fields
from nats_pubsub.stats import PublishStats
from nats_pubsub.subjects import SubjectTemplate
from nats_pubsub.timeutil import now_timestamp

__all__ = ["METRICS_EVERY", "run_publisher"]

METRICS_EVERY = 50

_Sent = tuple[EventMessage, str, int]  # message, subject, size in bytes


async def run_publisher(settings: PublisherSettings, log: Logger, stop: asyncio.Event) -> int:
    """Publish until stopped or `count` messages are out; return the exit code."""
    try:
        conn = await connect(settings, name=f"publisher-{settings.hostname}", log=log, stop=stop)
    except NatsError as exc:
        log.error("Could not connect to NATS", error=str(exc))
        return 0 if stop.is_set() else 1
    stats = PublishStats(jetstream=settings.jetstream)
    conn.events.on_permission_error = stats.count_permission_error

    published = log.emitter("INFO", "Message published", "on_sent")

    def on_sent(sent: _Sent, ack: PubAckInfo | None) -> None:
        msg, subject, size = sent
        stats.published += 1
        stats.published_bytes += size
        fields = {
            "message_id": msg.message_id,
            "subject": subject,
            "sequence": msg.sequence,
            "size_bytes": size,
            "event_type": msg.data.event_type,
        }
        if ack is not None:
            fields.update(js_fields(ack))
            stats.duplicates += ack.duplicate
        published(fields)
        if stats.published % METRICS_EVERY == 0:
            log.info("Publisher metrics", **stats.snapshot(outbox.retries))

    def on_failed(sent: _Sent, error: str) -> None:
        stats.errors += 1
        log.error("Publish failed", message_id=sent[0].message_id, subject=sent[1], error=error)

    try:
        outbox = await Outbox.open(settings, conn, log, settings.nats_subject, on_sent, on_failed)
    except (NatsError, ValueError) as exc:
        log.error("JetStream setup failed", error=str(exc))
        await conn.close()
        return 1
    factory = EventFactory(settings.hostname, settings.event_types)
    template = SubjectTemplate(settings.nats_subject, PUBLISH_TEMPLATE_FIELDS)
    pacer = Pacer(settings.publish_interval)
    count = settings.count
    log.info(
        "Publisher started",
        subject=settings.nats_subject,
        interval_seconds=pacer.interval,
        count=count,
        source=settings.hostname,
        jetstream=settings.jetstream,
    )
    expose(conn, publish=stats)
    try:
        while not stop.is_set():
            msg = factory.next(now_timestamp())
            subject = template.render({"event_type": msg.data.event_type, "source": msg.source})
            payload = encode(msg)
            await outbox.send(subject, payload, msg.message_id, (msg, subject, len(payload)))
            if count is not None and msg.sequence >= count:
                break
            await pacer.wait(stop)
    finally:
        await outbox.close(log, settings.drain_timeout)
        log.info("Publisher metrics", final=True, **stats.snapshot(outbox.retries))
    if count is not None and stats.errors:
        log.error("Not every message was published", failed=stats.errors, requested=count)
        return 1
    return 0
