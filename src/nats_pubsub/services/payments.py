"""`nats-pubsub payments`: publish credit card transactions on an interval, log each one."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, NamedTuple

from nats_pubsub.config.client import connect_options
from nats_pubsub.connection.connect import connect
from nats_pubsub.domain.schema import encode
from nats_pubsub.domain.timeutil import now_timestamp
from nats_pubsub.domain.transactions import (
    ACCEPTED_SUBJECT,
    DECLINED_SUBJECT,
    DeclinedTransaction,
    DeclinePolicy,
    PaymentStats,
    Transaction,
    TransactionFactory,
    transaction_log_fields,
)
from nats_pubsub.errors import NatsError
from nats_pubsub.lifecycle import Pacer
from nats_pubsub.logs.logger import Logger
from nats_pubsub.services.announce import announce_service
from nats_pubsub.services.options import publish_options
from nats_pubsub.services.outbox import (
    FailedCallback,
    Outbox,
    PubAckInfo,
    SentCallback,
    js_fields,
)

if TYPE_CHECKING:
    from nats_pubsub.config import PaymentSettings

__all__ = ["METRICS_EVERY", "SentTransaction", "run_payments"]

METRICS_EVERY = 20


class SentTransaction(NamedTuple):
    """A transaction as published, reported by the outbox when it is sent (or failed)."""

    transaction: Transaction
    subject: str
    size_bytes: int


def _records(
    log: Logger, stats: PaymentStats, retries: Callable[[], int | None]
) -> tuple[SentCallback[SentTransaction], FailedCallback[SentTransaction]]:
    """The records of a transaction sent (with its ack in JetStream) and of one that failed;
    `retries`: the outbox's publishes sent again (None in core NATS)."""

    def on_sent(sent: SentTransaction, ack: PubAckInfo | None) -> None:
        txn, subject, size = sent
        stats.count(txn)
        stats.published_bytes += size
        fields = transaction_log_fields(txn, subject, size)
        if ack is not None:
            fields.update(js_fields(ack))
        if isinstance(txn, DeclinedTransaction):
            log.error("Credit card declined", **fields)
        else:
            log.info("Credit card accepted", **fields)
        if (stats.accepted + stats.declined) % METRICS_EVERY == 0:
            log.info("Payment publisher metrics", **stats.snapshot(retries=retries()))

    def on_failed(sent: SentTransaction, error: str) -> None:
        stats.errors += 1
        txn_id = sent.transaction.transaction_id
        log.error("Publish failed", transaction_id=txn_id, subject=sent.subject, error=error)

    return on_sent, on_failed


async def run_payments(settings: PaymentSettings, log: Logger, stop: asyncio.Event) -> int:
    """Publish transactions until stopped or `count` are out; return the exit code."""
    try:
        conn = await connect(
            connect_options(settings), name=f"payments-{settings.hostname}", log=log, stop=stop
        )
    except NatsError as exc:
        log.error("Could not connect to NATS", error=str(exc))
        return 1
    stats = PaymentStats()
    opened: list[Outbox[SentTransaction]] = []
    on_sent, on_failed = _records(
        log, stats, lambda: opened[0].retries if opened and not opened[0].is_core else None
    )
    try:
        options = publish_options(settings, ACCEPTED_SUBJECT)
        outbox = await Outbox.open(options, conn, log, on_sent, on_failed, until=stop)
        opened.append(outbox)
    except (NatsError, ValueError) as exc:
        log.error("JetStream setup failed", error=str(exc))
        await conn.close()
        return 0 if stop.is_set() else 1  # stopped while JetStream was busy: not a failure
    pacer = Pacer(settings.publish_interval)
    stats.started = pacer.started
    count = settings.count
    factory = TransactionFactory(settings.hostname, settings.seed)
    policy = DeclinePolicy(pacer.interval, settings.decline_rate, settings.seed, start=0.0)
    log.info(
        "Payment publisher started",
        subjects=[ACCEPTED_SUBJECT, DECLINED_SUBJECT],
        interval_seconds=pacer.interval,
        count=count,
        seed=settings.seed,
        decline_rate=settings.decline_rate,
        source=settings.hostname,
        jetstream=settings.jetstream,
    )
    await announce_service(conn, "payments", settings, log, payments=stats)
    try:
        await _publish(factory, policy, pacer, outbox, count, stop)
    finally:
        ended = count is not None and factory.number >= count  # not stopped: wait for acks
        await outbox.close(log, settings.drain_timeout, stop if ended else None)
        retries = None if outbox.is_core else outbox.retries
        log.info("Payment publisher metrics", final=True, **stats.snapshot(retries=retries))
    if count is not None and stats.errors:
        log.error("Not every transaction was published", failed=stats.errors, requested=count)
        return 1
    return 0


async def _publish(
    factory: TransactionFactory,
    policy: DeclinePolicy,
    pacer: Pacer,
    outbox: Outbox[SentTransaction],
    count: int | None,
    stop: asyncio.Event,
) -> None:
    """Transactions until stopped or `count` are out, one per slot of the pacer."""
    while not stop.is_set():
        # Decline clock: the schedule (reproducible with --seed), or real time at interval 0.
        txn = factory.next(now_timestamp(), policy.decide(pacer.clock))
        declined = isinstance(txn, DeclinedTransaction)
        subject = DECLINED_SUBJECT if declined else ACCEPTED_SUBJECT
        payload = encode(txn)
        sent = SentTransaction(txn, subject, len(payload))
        await outbox.send(subject, payload, txn.transaction_id, sent)
        if count is not None and factory.number >= count:
            break
        await pacer.wait(stop)
