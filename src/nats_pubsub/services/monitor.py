"""`nats-pubsub monitor`: log every message on the watched subjects, classified by severity."""

from __future__ import annotations

import asyncio
import contextlib

from nats_pubsub.capture import SubjectStats, capture, is_ignored, should_log
from nats_pubsub.config import MonitorSettings
from nats_pubsub.connection import Delivery, connect
from nats_pubsub.errors import NatsError
from nats_pubsub.lifecycle import wait_or_stop
from nats_pubsub.logs import Logger

__all__ = ["run_monitor"]


async def _report_every(
    settings: MonitorSettings, stop: asyncio.Event, log: Logger, stats: SubjectStats
) -> None:
    while not await wait_or_stop(stop, settings.metrics_interval):
        log.info("Monitor metrics", **stats.snapshot(settings.top_subjects))


async def run_monitor(settings: MonitorSettings, log: Logger, stop: asyncio.Event) -> int:
    """Capture until stopped, `count` messages were captured, or `timeout` passed."""
    try:
        conn = await connect(settings, name=f"monitor-{settings.hostname}", log=log, stop=stop)
    except NatsError as exc:
        log.error("Could not connect to NATS", error=str(exc))
        return 1
    stats = SubjectStats()
    count = settings.count
    ignore = settings.ignore_patterns
    reached = asyncio.Event()

    async def on_message(msg: Delivery) -> None:
        subject = msg.subject
        if is_ignored(subject, ignore):
            stats.ignored += 1
            return
        data = msg.data
        captured = capture(subject, msg.reply, data, msg.headers, settings.max_payload_bytes)
        index = stats.messages
        stats.add(subject, len(data), captured.level)
        if should_log(captured.level, index, settings.sample_rate, settings.errors_only):
            stats.logged += 1
            log.log(captured.level, "Message captured", captured.fields)
        if count is not None and stats.messages >= count:
            reached.set()

    try:
        for subject in settings.subscriptions:
            await conn.subscribe(subject, on_message)
        # Make sure the server has our subscriptions before we say we are ready.
        await conn.flush(timeout=settings.connect_timeout)
    except NatsError as exc:
        log.error("Could not subscribe", subjects=list(settings.subscriptions), error=str(exc))
        await conn.close()
        return 1
    log.info(
        "Subscribed",
        subjects=list(settings.subscriptions),
        ignore=list(ignore),
        count=count,
        timeout_seconds=settings.timeout,
        sample_rate=settings.sample_rate,
        errors_only=settings.errors_only,
    )
    reporter = asyncio.create_task(_report_every(settings, stop, log, stats))
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
    log.info("Monitor metrics", final=True, **stats.snapshot(settings.top_subjects))
    if timed_out and count is not None and stats.messages < count:
        log.error(
            "Timed out before --count was reached",
            captured=stats.messages,
            expected=count,
            timeout_seconds=settings.timeout,
        )
        return 1
    return 0
