"""`nats-pubsub subscribe`: validate every message, log it with its latency, report metrics."""

from __future__ import annotations

import asyncio
import contextlib

from nats_pubsub.config import SubscriberSettings
from nats_pubsub.connection import Delivery, MessageHandler, connect
from nats_pubsub.errors import InvalidMessageError, NatsError
from nats_pubsub.lifecycle import wait_or_stop
from nats_pubsub.logs import Logger
from nats_pubsub.receiving import inspect_message, rejection_fields
from nats_pubsub.stats import ReceiveStats
from nats_pubsub.timeutil import now_ns

__all__ = ["make_handler", "run_subscriber"]


async def _report_every(
    interval: float, stop: asyncio.Event, log: Logger, stats: ReceiveStats
) -> None:
    while not await wait_or_stop(stop, interval):
        log.info("Subscriber metrics", **stats.snapshot())


def make_handler(
    settings: SubscriberSettings, log: Logger, stats: ReceiveStats, reached: asyncio.Event
) -> MessageHandler:
    """The per-message work: validate, log, count; sets `reached` at `count` valid messages."""
    count = settings.count
    every = settings.metrics_every
    warned_fields: set[str] = set()

    async def on_message(msg: Delivery) -> None:
        data = msg.data
        try:
            accepted = inspect_message(msg.subject, data, msg.reply, now_ns())
        except InvalidMessageError as exc:
            stats.reject(exc.reason)
            log.error("Invalid message", **rejection_fields(msg.subject, data, exc))
        else:
            stats.valid += 1
            stats.latency.add(accepted.latency_ms)
            log.info("Message received", **accepted.fields)
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
    on_message = make_handler(settings, log, stats, reached)
    count = settings.count
    try:
        await conn.subscribe(settings.nats_subject, on_message, queue=settings.queue_group)
    except NatsError as exc:
        log.error("Could not subscribe", subject=settings.nats_subject, error=str(exc))
        await conn.close()
        return 1
    log.info(
        "Subscribed",
        subject=settings.nats_subject,
        queue_group=settings.queue_group,
        count=count,
        timeout_seconds=settings.timeout,
    )
    reporter = asyncio.create_task(_report_every(settings.metrics_interval, stop, log, stats))
    waiters = [asyncio.create_task(stop.wait()), asyncio.create_task(reached.wait())]
    done, _ = await asyncio.wait(
        waiters, timeout=settings.timeout, return_when=asyncio.FIRST_COMPLETED
    )
    timed_out = not done
    for task in [*waiters, reporter]:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    await conn.drain()
    log.info("Subscriber metrics", final=True, **stats.snapshot())
    if timed_out and count is not None and stats.valid < count:
        log.error(
            "Timed out before --count was reached",
            received=stats.valid,
            expected=count,
            timeout_seconds=settings.timeout,
        )
        return 1
    return 0
