"""`nats-pubsub subscribe`: validate every message, log it with its latency, report metrics."""

from __future__ import annotations

import asyncio
from typing import Any

from nats_pubsub.config import SubscriberSettings
from nats_pubsub.connection import Delivery, connect
from nats_pubsub.errors import InvalidMessageError, NatsError
from nats_pubsub.health import expose
from nats_pubsub.logs import Logger
from nats_pubsub.loss import LossWatch
from nats_pubsub.receiving import inspect_message, rejection_fields
from nats_pubsub.services.inbox import Handler, Inbox
from nats_pubsub.stats import ReceiveStats
from nats_pubsub.timeutil import now_ns

__all__ = ["DEFAULT_DURABLE", "make_handler", "run_subscriber"]

DEFAULT_DURABLE = "subscriber"


def make_handler(
    settings: SubscriberSettings, log: Logger, stats: ReceiveStats, reached: asyncio.Event
) -> Handler:
    """The per-message work: validate, log, count; sets `reached` at `count` valid messages."""
    count = settings.count
    every = settings.metrics_every
    warned_fields: set[str] = set()
    loss = LossWatch(log, stats.sequences)
    received = log.emitter("INFO", "Message received", "on_message")
    observe_latency = stats.latency.add
    observe_histogram = stats.histogram.observe

    async def on_message(msg: Delivery, extra: dict[str, Any] | None = None) -> str | None:
        data = msg.data
        stats.received_bytes += len(data)
        failure = None
        try:
            accepted = inspect_message(msg.subject, data, msg.reply, now_ns())
        except InvalidMessageError as exc:
            stats.reject(exc.reason)
            fields = rejection_fields(msg.subject, data, exc)
            if extra:
                fields.update(extra)
            log.error("Invalid message", **fields)
            failure = f"invalid message: {exc.reason}: {exc.detail}"
        else:
            stats.valid += 1
            latency = accepted.latency_ms
            observe_latency(latency)
            observe_histogram(latency)
            fields = accepted.fields
            if extra:
                fields.update(extra)
            received(fields)
            loss.observe(fields)
            for name in accepted.unknown_fields:
                if name not in warned_fields:
                    warned_fields.add(name)
                    log.warning(
                        "Unknown field in message",
                        field=name,
                        subject=msg.subject,
                        note="accepted; warned once per field name",
                    )
            if count is not None and stats.valid >= count:
                reached.set()
        if (stats.valid + stats.invalid) % every == 0:
            log.info("Subscriber metrics", **stats.snapshot())
        return failure

    return on_message


async def run_subscriber(settings: SubscriberSettings, log: Logger, stop: asyncio.Event) -> int:
    """Receive until stopped, `count` valid messages arrived, or `timeout` passed."""
    try:
        conn = await connect(settings, name=f"subscriber-{settings.hostname}", log=log, stop=stop)
    except NatsError as exc:
        log.error("Could not connect to NATS", error=str(exc))
        return 0 if stop.is_set() else 1
    stats = ReceiveStats()
    reached = asyncio.Event()
    handler = make_handler(settings, log, stats, reached)
    inbox = Inbox(conn, log)
    subject = settings.nats_subject
    try:
        bound = await inbox.start(
            settings, [subject], settings.queue_group, DEFAULT_DURABLE, handler, stop
        )
    except (NatsError, ValueError) as exc:
        log.error("Could not subscribe", subject=subject, error=str(exc))
        await conn.close()
        return 1
    log.info(
        "Subscribed",
        subject=subject,
        queue_group=settings.queue_group,
        count=settings.count,
        timeout_seconds=settings.timeout,
        jetstream=settings.jetstream,
        **bound,
    )
    expose(conn, receive=stats, consume=inbox.stats)
    timed_out = await inbox.serve(
        stop,
        reached,
        settings.timeout,
        settings.metrics_interval,
        "Subscriber metrics",
        stats.snapshot,
    )
    if timed_out and settings.count is not None and stats.valid < settings.count:
        log.error(
            "Timed out before --count was reached",
            received=stats.valid,
            expected=settings.count,
            timeout_seconds=settings.timeout,
        )
        return 1
    return 0
