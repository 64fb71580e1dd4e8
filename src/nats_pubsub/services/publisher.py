"""`nats-pubsub publish`: build events, publish them on an interval, log each one.

Paced, one message per slot. Flat out (interval 0) the loop works in batches: per event-loop
turn the publishing strategy (`publish_runs`) collects up to `FLOOD_BATCH` messages (each logged
as it is collected, or when its JetStream ack arrives), the outbox hands them to the client in
one piece, and the loop yields once. A message's path: this service, the strategy, the outbox
and its window (connection layer), the frames (domain/wire.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

from nats_pubsub.config import PUBLISH_TEMPLATE_FIELDS
from nats_pubsub.config.client import connect_options
from nats_pubsub.connection.connect import connect
from nats_pubsub.domain.core_batch import CoreBatcher
from nats_pubsub.domain.events import EventFactory
from nats_pubsub.domain.ingest_build import Built, IngestBatcher, acked_lines, built_bytes
from nats_pubsub.domain.stats import PublishStats
from nats_pubsub.domain.subjects import SubjectTemplate
from nats_pubsub.errors import NatsError
from nats_pubsub.lifecycle import Pacer
from nats_pubsub.logs.lines import DIGITS, INT, Fill
from nats_pubsub.logs.logger import Logger
from nats_pubsub.services.announce import announce_service
from nats_pubsub.services.options import publish_options
from nats_pubsub.services.outbox import Outbox, PubAckInfo
from nats_pubsub.services.publish_runs import (
    CoreRuns,
    EachMessage,
    IngestRuns,
    RunRecords,
    Sent,
    Subjects,
)

if TYPE_CHECKING:
    from nats_pubsub.config import PublisherSettings

__all__ = ["FLOOD_BATCH", "METRICS_EVERY", "run_publisher"]

METRICS_EVERY = 50
FLOOD_BATCH = 256  # messages built and handed over per event-loop turn when flat out

_PUBLISHED = ("message_id", "subject", "sequence", "size_bytes", "event_type")
_JS_PUBLISHED = (*_PUBLISHED, "js_stream", "js_sequence", "duplicate")
_BATCH_PUBLISHED = (*_PUBLISHED, "js_stream", "js_batch")  # --fast-ingest


class _Records:
    """The publisher's records, their writers made once (closures: one call per message)."""

    def __init__(self, log: Logger, stats: PublishStats, source: str) -> None:
        self.log, self.stats, self.source = log, stats, source
        self.retries: Callable[[], int] = lambda: 0  # the outbox's, once it is open
        self.built = False  # contexts are `Built` (runs built from formats with --fast-ingest)
        self.json_lines = log.line_format("INFO", "Message published", {}) is not None
        self.metrics = log.emitter("INFO", "Publisher metrics", "on_sent")
        self.sent = _sent_writer(self)
        self.failed = _failed_writer(self)
        self.batch_acked = _batch_writer(self)

    def until_metrics(self) -> int:
        """Messages until the next metrics record is due (runs are cut there)."""
        return METRICS_EVERY - self.stats.published % METRICS_EVERY

    def count(self, messages: int, payload_bytes: int) -> None:
        """Count a run of messages logged in one piece; a metrics record follows when it ends
        on a multiple of `METRICS_EVERY`."""
        stats = self.stats
        stats.published += messages
        stats.published_bytes += payload_bytes
        if messages and stats.published % METRICS_EVERY == 0:
            self.metrics(stats.snapshot(self.retries()))

    def line_format(self, subject: str, event_type: str, **js: str) -> bytes:
        """The format of a `Message published` line (core NATS), or with `js_stream` and
        `js_batch` that of one acked in a fast-ingest batch."""
        fields = {
            "message_id": Fill.text(f"{self.source}-", b"%b"),
            "subject": subject,
            "sequence": DIGITS,
            "size_bytes": INT,
            "event_type": event_type,
            **js,
        }
        line = self.log.line_format("INFO", "Message published", fields, "on_sent")
        assert line is not None  # runs from formats are made only with JSON lines
        return line


def _sent_writer(records: _Records) -> Callable[[Sent, PubAckInfo | None], None]:
    log, stats, metrics = records.log, records.stats, records.metrics
    published = log.record_emitter("INFO", "Message published", _PUBLISHED, "on_sent")
    published_js = log.record_emitter("INFO", "Message published", _JS_PUBLISHED, "on_sent")
    published_batch = log.record_emitter("INFO", "Message published", _BATCH_PUBLISHED, "on_sent")

    def on_sent(sent: Sent, ack: PubAckInfo | None) -> None:
        stats.published += 1
        stats.published_bytes += sent[3]  # size_bytes (a bare tuple: see publish_runs.Sent)
        if ack is None:
            published(*sent)
        elif ack.batch:
            published_batch(*sent, ack.stream, ack.batch)
        else:
            stats.duplicates += ack.duplicate
            published_js(*sent, ack.stream, ack.sequence, ack.duplicate)
        if stats.published % METRICS_EVERY == 0:
            metrics(stats.snapshot(records.retries()))

    return on_sent


def _failed_writer(records: _Records) -> Callable[[Sent | Built, str], None]:
    log, stats, source = records.log, records.stats, records.source

    def on_failed(sent: Sent | Built, error: str) -> None:
        _, subject, sequence = sent[:3]  # the same places in a `Sent` and a `Built`
        stats.errors += 1
        log.error("Publish failed", message_id=f"{source}-{sequence}", subject=subject, error=error)

    return on_failed


def _batch_writer(records: _Records) -> Callable[[list[Any], PubAckInfo], None]:
    def on_batch_acked(contexts: list[Any], ack: PubAckInfo) -> None:
        """--fast-ingest: the messages one ack covers, logged in runs that end where a metrics
        record is due, as `on_sent` would log them one by one."""
        if not records.built:
            for sent in contexts:
                records.sent(sent, ack)
            return
        built = cast("list[Built]", contexts)
        at = 0
        while at < len(built):
            run = built[at : at + records.until_metrics()]
            at += len(run)
            records.log.write_lines(acked_lines(run, ack.batch))
            records.count(len(run), built_bytes(run))

    return on_batch_acked


def _strategy(
    factory: EventFactory, subjects: Subjects, outbox: Outbox[Any], records: _Records
) -> EachMessage:
    """Runs built from formats with JSON logs (core NATS, or --fast-ingest), else each message
    through `Outbox.put`."""
    window = outbox.fast_ingest
    try:  # ValueError: an id no header can carry; the ordinary path reports it
        if records.json_lines and outbox.is_core:
            run_records = RunRecords(records.until_metrics, records.count, records.log.write_lines)
            batcher = CoreBatcher(factory, subjects.of, records.line_format)
            return CoreRuns(factory, subjects, outbox, batcher, run_records)
        if records.json_lines and window is not None:
            stream = window.stream

            def batch_line(subject: str, event_type: str) -> bytes:
                return records.line_format(subject, event_type, js_stream=stream, js_batch="")

            ingest = IngestBatcher(factory, subjects.of, outbox.dedupe_suffix, batch_line)
            records.built = True
            return IngestRuns(factory, subjects, outbox, ingest, window)
    except ValueError:
        pass
    return EachMessage(factory, subjects, outbox)


async def flood(
    runs: EachMessage,
    outbox: Outbox[Any],
    factory: EventFactory,
    count: int | None,
    stop: asyncio.Event,
    pacer: Pacer,
    log: Logger,
) -> None:
    """Flat out: batches of messages, one hand-over and one yield per event-loop turn."""
    while not stop.is_set():
        want = FLOOD_BATCH if count is None else min(FLOOD_BATCH, count - factory.sequence)
        if want <= 0:
            return
        room = await outbox.room(want)
        if room == 0:  # no batching right now (e.g. reconnecting): one at a time
            await runs.send_next()
            await pacer.wait(stop)
            continue
        await runs.fill(room)
        try:
            await outbox.flush()
        except NatsError as exc:
            log.warning("Flushing published messages failed", error=str(exc))


async def run_publisher(
    settings: PublisherSettings,
    log: Logger,
    stop: asyncio.Event,
    *,
    events: EventFactory | None = None,
) -> int:
    """Publish until stopped or `count` messages are out; return the exit code. `events` makes
    the events (by default from the settings' source and event types; `bench` pads them)."""
    try:
        conn = await connect(
            connect_options(settings), name=f"publisher-{settings.hostname}", log=log, stop=stop
        )
    except NatsError as exc:
        log.error("Could not connect to NATS", error=str(exc))
        return 0 if stop.is_set() else 1
    stats = PublishStats(jetstream=settings.jetstream)
    conn.events.on_permission_error = stats.count_permission_error
    factory = events or EventFactory(settings.hostname, settings.event_types)
    records = _Records(log, stats, factory.source)
    try:
        options = publish_options(settings, settings.nats_subject)
        outbox: Outbox[Any] = await Outbox.open(
            options, conn, log, records.sent, records.failed, records.batch_acked, until=stop
        )
    except (NatsError, ValueError) as exc:
        log.error("JetStream setup failed", error=str(exc))
        await conn.close()
        return 0 if stop.is_set() else 1  # stopped while JetStream was busy: not a failure
    records.retries = lambda: outbox.retries
    template = SubjectTemplate(settings.nats_subject, PUBLISH_TEMPLATE_FIELDS)
    runs = _strategy(factory, Subjects(template, factory.source), outbox, records)
    pacer, count = Pacer(settings.publish_interval), settings.count
    log.info(
        "Publisher started",
        subject=settings.nats_subject,
        interval_seconds=pacer.interval,
        count=count,
        source=settings.hostname,
        jetstream=settings.jetstream,
    )
    await announce_service(conn, "publish", settings, log, publish=stats)
    try:
        if pacer.interval == 0:
            await flood(runs, outbox, factory, count, stop, pacer, log)
        else:
            while not stop.is_set():
                await runs.send_next()
                if count is not None and factory.sequence >= count:
                    break
                await pacer.wait(stop)
    finally:
        ended = count is not None and factory.sequence >= count  # not stopped: wait for acks
        await outbox.close(log, settings.drain_timeout, stop if ended else None)
        log.info("Publisher metrics", final=True, **stats.snapshot(outbox.retries))
    if count is not None and stats.errors:
        log.error("Not every message was published", failed=stats.errors, requested=count)
        return 1
    return 0
