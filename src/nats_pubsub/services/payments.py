"""`nats-pubsub payments`: publish credit card transactions on an interval, log each one."""

from __future__ import annotations

import asyncio
import time

from nats_pubsub.config import PaymentSettings
from nats_pubsub.connection import connect
from nats_pubsub.errors import NatsError
from nats_pubsub.lifecycle import wait_or_stop
from nats_pubsub.logs import Logger
from nats_pubsub.payments import (
    ACCEPTED_SUBJECT,
    DECLINED_SUBJECT,
    DeclinedTransaction,
    DeclinePolicy,
    PaymentStats,
    TransactionFactory,
    transaction_log_fields,
)
from nats_pubsub.schema import encode
from nats_pubsub.timeutil import now_timestamp

__all__ = ["METRICS_EVERY", "run_payments"]

METRICS_EVERY = 20
# With no interval, give the event loop (flusher, signal handlers, log writes) a turn this often.
_YIELD_EVERY = 128


async def run_payments(settings: PaymentSettings, log: Logger, stop: asyncio.Event) -> int:
    """Publish transactions until stopped or `count` are out; return the exit code."""
    try:
        conn = await connect(settings, name=f"payments-{settings.hostname}", log=log, stop=stop)
    except NatsError as exc:
        log.error("Could not connect to NATS", error=str(exc))
        return 1
    interval = settings.publish_interval
    count = settings.count
    started = time.monotonic()
    factory = TransactionFactory(settings.hostname, settings.seed)
    policy = DeclinePolicy(interval, settings.decline_rate, settings.seed, start=0.0)
    stats = PaymentStats(started)
    log.info(
        "Payment publisher started",
        subjects=[ACCEPTED_SUBJECT, DECLINED_SUBJECT],
        interval_seconds=interval,
        count=count,
        seed=settings.seed,
        decline_rate=settings.decline_rate,
        source=settings.hostname,
    )
    next_at = started
    try:
        while not stop.is_set():
            # Decline clock: the schedule (reproducible with --seed), or real time at interval 0.
            clock = (next_at if interval > 0 else time.monotonic()) - started
            txn = factory.next(now_timestamp(), policy.decide(clock))
            declined = isinstance(txn, DeclinedTransaction)
            subject = DECLINED_SUBJECT if declined else ACCEPTED_SUBJECT
            payload = encode(txn)
            try:
                await conn.publish(subject, payload, {"Nats-Msg-Id": txn.transaction_id})
            except NatsError as exc:
                stats.errors += 1
                log.error(
                    "Publish failed",
                    transaction_id=txn.transaction_id,
                    subject=subject,
                    error=str(exc),
                    error_type=type(exc).__name__,
                )
            else:
                stats.count(txn)
                fields = transaction_log_fields(txn, subject, len(payload))
                if declined:
                    log.error("Credit card declined", **fields)
                else:
                    log.info("Credit card accepted", **fields)
            if factory.number % METRICS_EVERY == 0:
                log.info("Payment publisher metrics", **stats.snapshot())
            if count is not None and factory.number >= count:
                break
            if interval > 0:
                next_at += interval
                delay = next_at - time.monotonic()
                if delay < 0:  # fell behind (e.g. a slow reconnect): do not burst to catch up
                    next_at, delay = time.monotonic(), 0.0
                await wait_or_stop(stop, delay)
            elif factory.number % _YIELD_EVERY == 0:
                await asyncio.sleep(0)
    finally:
        try:
            await conn.flush(timeout=settings.drain_timeout)
        except NatsError as exc:
            log.warning("Flush before exit did not complete", error=str(exc))
        await conn.drain()
        log.info("Payment publisher metrics", final=True, **stats.snapshot())
    if count is not None and stats.errors:
        log.error("Not every transaction was published", failed=stats.errors, requested=count)
        return 1
    return 0
