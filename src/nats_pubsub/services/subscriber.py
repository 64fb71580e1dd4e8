"""`nats-pubsub subscribe`: validate every message, log it with its latency, report metrics."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any

from nats_pubsub.config.client import connect_options
from nats_pubsub.connection.connect import ConnectLimit, connect
from nats_pubsub.domain.receiving import (
    EVENT_FIELDS,
    PAYMENT_FIELDS,
    inspect_message,
    is_payment_subject,
    rejection_fields,
)
from nats_pubsub.domain.receiving_fast import canonical_event
from nats_pubsub.domain.stats import ReceiveStats
from nats_pubsub.domain.timeutil import now_ns
from nats_pubsub.errors import InvalidMessageError, NatsError
from nats_pubsub.lifecycle import time_left
from nats_pubsub.logs.bounds import bound_values
from nats_pubsub.logs.logger import Logger
from nats_pubsub.logs.loss import LossWatch
from nats_pubsub.logs.unknown_fields import UnknownFieldNames
from nats_pubsub.services.announce import announce_service
from nats_pubsub.services.inbox import Inbox
from nats_pubsub.services.js_consume import Handler
from nats_pubsub.services.options import consume_options

if TYPE_CHECKING:  # the service process never needs pydantic's models at import
    from nats_pubsub.config import SubscriberSettings

__all__ = ["DEFAULT_DURABLE", "make_handler", "run_subscriber"]

DEFAULT_DURABLE = "subscriber"


def make_handler(
    settings: SubscriberSettings, log: Logger, stats: ReceiveStats, reached: asyncio.Event
) -> Handler:
    """The per-message work: validate, log, count; sets `reached` at `count` valid messages.

    A canonical event takes the fast path (`receiving_fast.canonical_event`); anything else
    the general one (`receiving.inspect_message`), which decides the same way
    (tests/services/test_subscriber_paths.py).
    """
    loss = LossWatch(log, stats.sequences)
    general = _general_path(settings, log, stats, reached, loss)
    return _event_path(general, settings, log, stats, reached, loss)


def _event_path(
    general: Handler,
    settings: SubscriberSettings,
    log: Logger,
    stats: ReceiveStats,
    reached: asyncio.Event,
    loss: LossWatch,
) -> Handler:
    """The handler: a canonical event logged with no intermediate objects, else `general`."""
    count, every, max_chars = settings.count, settings.metrics_every, log.max_field_chars
    observe_sequence = loss.observe_event
    next_in_sequence = stats.sequences.advance  # the common case of observe_sequence, inline
    held_losses = loss.held
    event_received = log.record_emitter("INFO", "Message received", EVENT_FIELDS, "on_message")
    observe_latency, observe_histogram = stats.latency.add, stats.histogram.observe

    def on_message(
        subject: str,
        reply: str,
        data: bytes,
        headers: dict[str, str] | None,
        extra: dict[str, Any] | None = None,
        /,
    ) -> str | None:
        values = (
            None
            if extra is not None or is_payment_subject(subject)
            else canonical_event(subject, reply, data, now_ns)
        )
        if values is None:
            return general(subject, reply, data, headers, extra)
        _, _, source, sequence, _, size, latency, _ = values
        stats.received_bytes += size
        stats.valid += 1
        observe_latency(latency)
        observe_histogram(latency)
        # Only a big message or subject can hold a string too long for a record.
        if size + len(subject) + len(reply) > max_chars:
            event_received(*bound_values(values, max_chars))
        else:
            event_received(*values)
        if not next_in_sequence(source, sequence):
            observe_sequence(source, sequence)
        elif held_losses:
            loss.report_due()
        if count is not None and stats.valid >= count:
            reached.set()
        if (stats.valid + stats.invalid) % every == 0:
            log.info("Subscriber metrics", **stats.snapshot())
        return None

    return on_message


def _general_path(
    settings: SubscriberSettings,
    log: Logger,
    stats: ReceiveStats,
    reached: asyncio.Event,
    loss: LossWatch,
) -> Handler:
    """Any message: inspected (foreign forms, payments, unknown fields, invalid input), one
    `Message received` or `Invalid message` record; returns why it failed, if it did."""
    count, every, max_chars = settings.count, settings.metrics_every, log.max_field_chars
    warned_fields = UnknownFieldNames()
    event_received = log.record_emitter("INFO", "Message received", EVENT_FIELDS, "on_message")
    payment_received = log.record_emitter("INFO", "Message received", PAYMENT_FIELDS, "on_message")
    with_extra = log.emitter("INFO", "Message received", "on_message")

    def on_message(
        subject: str,
        reply: str,
        data: bytes,
        headers: dict[str, str] | None,
        extra: dict[str, Any] | None = None,
        /,
    ) -> str | None:
        stats.received_bytes += len(data)
        failure = None
        try:
            accepted = inspect_message(subject, data, reply, now_ns())
        except InvalidMessageError as exc:
            stats.reject(exc.reason)
            fields = rejection_fields(subject, data, exc)
            if extra:
                fields.update(extra)
            log.error("Invalid message", **fields)
            failure = f"invalid message: {exc.reason}: {exc.detail}"
        else:
            stats.valid += 1
            latency = accepted.latency_ms
            stats.latency.add(latency)
            stats.histogram.observe(latency)
            seq = accepted.sequence
            if extra:
                with_extra({**accepted.fields, **extra})
            elif seq is None:
                payment_received(*bound_values(accepted.values, max_chars))
            else:
                event_received(*bound_values(accepted.values, max_chars))
            if seq is not None and extra is None:  # JetStream: the stream keeps every message
                loss.observe_event(accepted.source, seq)
            if accepted.unknown_fields:
                _warn_unknown(log, subject, accepted.unknown_fields, warned_fields)
            if count is not None and stats.valid >= count:
                reached.set()
        if (stats.valid + stats.invalid) % every == 0:
            log.info("Subscriber metrics", **stats.snapshot())
        return failure

    return on_message


def _warn_unknown(
    log: Logger, subject: str, names: tuple[str, ...], warned: UnknownFieldNames
) -> None:
    """One WARNING for a message bringing unknown field names not warned about before,
    listing the first of them."""
    fresh = warned.fresh(names)
    if fresh is not None:
        log.warning(
            "Unknown field in message",
            fields=fresh.names,
            new_fields=fresh.new,
            subject=subject,
            note="accepted; warned once per field name",
        )


async def run_subscriber(settings: SubscriberSettings, log: Logger, stop: asyncio.Event) -> int:
    """Receive until stopped, `count` valid messages arrived, or `timeout` passed."""
    started = time.monotonic()
    limit = None if settings.timeout is None else ConnectLimit(settings.timeout, "--timeout")
    name = f"subscriber-{settings.hostname}"
    try:
        conn = await connect(connect_options(settings), name=name, log=log, stop=stop, limit=limit)
    except NatsError as exc:
        log.error("Could not connect to NATS", error=str(exc))
        return 0 if stop.is_set() else 1
    stats = ReceiveStats()
    reached = asyncio.Event()
    handler = make_handler(settings, log, stats, reached)
    inbox = Inbox(conn, log)
    subject = settings.nats_subject
    try:
        options = consume_options(settings, subject, DEFAULT_DURABLE)
        bound = await inbox.start(
            options,
            [subject],
            settings.queue_group,
            handler,
            stop,
            limit=settings.count,
            deadline=None if settings.timeout is None else started + settings.timeout,
        )
    except (NatsError, ValueError) as exc:
        log.error("Could not subscribe", subject=subject, error=str(exc))
        await conn.close()
        return 0 if stop.is_set() else 1  # stopped while JetStream was busy: not a failure
    log.info(
        "Subscribed",
        subject=subject,
        queue_group=settings.queue_group,
        count=settings.count,
        timeout_seconds=settings.timeout,
        jetstream=settings.jetstream,
        **bound,
    )
    await announce_service(conn, "subscribe", settings, log, receive=stats, consume=inbox.stats)
    timed_out = await inbox.serve(
        stop,
        reached,
        time_left(settings.timeout, started),
        settings.metrics_interval,
        "Subscriber metrics",
        stats.snapshot,
    )
    return inbox.outcome(timed_out, stats.valid, settings.count, settings.timeout, "received")
