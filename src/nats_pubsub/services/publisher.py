"""`nats-pubsub publish`: build events, publish them on an interval, log each one.

Flat out (interval 0) the loop works in batches: per event-loop turn it builds, encodes and
collects up to `FLOOD_BATCH` messages (each logged as it is collected, or when its JetStream ack
arrives), hands them to the client in one piece and yields once. In core NATS with JSON logs the
batch's frames and lines come from per-type formats (`core_batch`). Paced, one message per slot.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, cast

from nats_pubsub.config import PUBLISH_TEMPLATE_FIELDS
from nats_pubsub.config.client import connect_options
from nats_pubsub.connection.connect import connect
from nats_pubsub.connection.fast_ingest import BatchWindow
from nats_pubsub.domain.core_batch import CoreBatcher
from nats_pubsub.domain.events import EventFactory
from nats_pubsub.domain.ingest_build import Built, IngestBatcher, acked_lines, built_bytes
from nats_pubsub.domain.stats import PublishStats
from nats_pubsub.domain.subjects import SubjectTemplate
from nats_pubsub.domain.timeutil import now_ns
from nats_pubsub.errors import NatsError
from nats_pubsub.lifecycle import Pacer
from nats_pubsub.logs.lines import DIGITS, INT, Fill
from nats_pubsub.logs.logger import Logger
from nats_pubsub.observability.health import expose
from nats_pubsub.services.options import publish_options
from nats_pubsub.services.outbox import Outbox, PubAckInfo

if TYPE_CHECKING:
    from nats_pubsub.config import PublisherSettings

__all__ = ["FLOOD_BATCH", "METRICS_EVERY", "run_publisher"]

METRICS_EVERY = 50
FLOOD_BATCH = 256  # messages built and handed over per event-loop turn when flat out

_PUBLISHED = ("message_id", "subject", "sequence", "size_bytes", "event_type")
_JS_PUBLISHED = (*_PUBLISHED, "js_stream", "js_sequence", "duplicate")
_BATCH_PUBLISHED = (*_PUBLISHED, "js_stream", "js_batch")  # --fast-ingest
# What the publisher reports of a message: message id, subject, sequence, size in bytes, event
# type; or, built for --fast-ingest with JSON logs, a `Built` (its line, subject, sequence, size).
Sent = tuple[str, str, int, int, str]


async def run_publisher(settings: PublisherSettings, log: Logger, stop: asyncio.Event) -> int:
    """Publish until stopped or `count` messages are out; return the exit code."""
    try:
        conn = await connect(
            connect_options(settings), name=f"publisher-{settings.hostname}", log=log, stop=stop
        )
    except NatsError as exc:
        log.error("Could not connect to NATS", error=str(exc))
        return 0 if stop.is_set() else 1
    stats = PublishStats(jetstream=settings.jetstream)
    conn.events.on_permission_error = stats.count_permission_error

    published = log.record_emitter("INFO", "Message published", _PUBLISHED, "on_sent")
    published_js = log.record_emitter("INFO", "Message published", _JS_PUBLISHED, "on_sent")
    published_batch = log.record_emitter("INFO", "Message published", _BATCH_PUBLISHED, "on_sent")
    metrics = log.emitter("INFO", "Publisher metrics", "on_sent")

    factory = EventFactory(settings.hostname, settings.event_types)
    source = factory.source

    def on_sent(sent: Sent | Built, ack: PubAckInfo | None) -> None:
        stats.published += 1
        stats.published_bytes += sent[3]
        if ack is None:
            published(*sent)
        elif ack.batch:
            published_batch(*sent, ack.stream, ack.batch)
        else:
            stats.duplicates += ack.duplicate
            published_js(*sent, ack.stream, ack.sequence, ack.duplicate)
        if stats.published % METRICS_EVERY == 0:
            metrics(stats.snapshot(outbox.retries))

    def on_failed(sent: Sent | Built, error: str) -> None:
        stats.errors += 1
        log.error("Publish failed", message_id=f"{source}-{sent[2]}", subject=sent[1], error=error)

    def published_line(subject: str, event_type: str, **js: str) -> bytes:
        """The format of the `Message published` line `published` writes (core NATS), or with
        `js_stream` and `js_batch` the one `published_batch` writes (--fast-ingest)."""
        fields = {
            "message_id": Fill.text(f"{source}-", b"%b"),
            "subject": subject,
            "sequence": DIGITS,
            "size_bytes": INT,
            "event_type": event_type,
            **js,
        }
        line = log.line_format("INFO", "Message published", fields, "on_sent")
        assert line is not None  # checked below, before a batcher is made
        return line

    json_lines = log.line_format("INFO", "Message published", {}) is not None
    batcher: CoreBatcher | None = None  # flat out in core NATS with JSON logs
    ingest: IngestBatcher | None = None  # flat out with --fast-ingest and JSON logs

    def on_batch_acked(contexts: list[Sent | Built], ack: PubAckInfo) -> None:
        """--fast-ingest: the messages one ack covers, logged in runs that end where a metrics
        record is due, as `on_sent` would log them one by one."""
        if ingest is None:
            for sent in contexts:
                on_sent(sent, ack)
            return
        built = cast("list[Built]", contexts)  # with a batcher every message is reported so
        at = 0
        while at < len(built):
            run = built[at : at + METRICS_EVERY - stats.published % METRICS_EVERY]
            at += len(run)
            log.write_lines(acked_lines(run, ack.batch))
            count_published(len(run), built_bytes(run))

    def count_published(messages: int, payload_bytes: int) -> None:
        """Count a run of messages logged in one piece; a metrics record follows when it ends
        on a multiple of `METRICS_EVERY` (runs are cut there)."""
        stats.published += messages
        stats.published_bytes += payload_bytes
        if messages and stats.published % METRICS_EVERY == 0:
            metrics(stats.snapshot(outbox.retries))

    try:
        options = publish_options(settings, settings.nats_subject)
        outbox = await Outbox.open(options, conn, log, on_sent, on_failed, on_batch_acked)
    except (NatsError, ValueError) as exc:
        log.error("JetStream setup failed", error=str(exc))
        await conn.close()
        return 1
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
    subjects: dict[str, str] = {}  # event type -> subject (the source never changes)

    def subject_of(event_type: str) -> str:
        subject = subjects.get(event_type)
        if subject is None:
            subject = template.render({"event_type": event_type, "source": source})
            subjects[event_type] = subject
        return subject

    async def send(seq: int, event_type: str, payload: bytes) -> None:
        """One message the ordinary way (paced, reconnecting, or an oversized payload)."""
        subject, msg_id, size = subject_of(event_type), f"{source}-{seq}", len(payload)
        context: Sent | Built = (
            (msg_id, subject, seq, size, event_type)
            if ingest is None
            else ingest.built(seq, event_type, size)
        )
        await outbox.send(subject, payload, msg_id, context)

    async def send_one() -> None:
        await send(*factory.next_encoded_at(now_ns()))

    window = outbox.fast_ingest

    def batch_line(subject: str, event_type: str) -> bytes:
        assert window is not None
        return published_line(subject, event_type, js_stream=window.stream, js_batch="")

    try:  # ValueError: an id no header can carry; the ordinary path reports it
        if outbox.is_core and json_lines:
            batcher = CoreBatcher(factory, subject_of, published_line)
        elif window is not None and json_lines:
            ingest = IngestBatcher(factory, subject_of, outbox.dedupe_suffix, batch_line)
    except ValueError:
        pass

    async def collect_core(room: int, batcher: CoreBatcher) -> None:
        """Up to `room` messages built from formats, reported in runs that end where a
        metrics record is due (every `METRICS_EVERY`), so records stay in order."""
        while room > 0:
            most = min(room, METRICS_EVERY - stats.published % METRICS_EVERY)
            batch = batcher.build(most, outbox.max_payload)
            room -= batch.messages
            outbox.put_frames(batch.frames, batch.messages, batch.payload_bytes)
            log.write_lines(batch.lines)
            count_published(batch.messages, batch.payload_bytes)
            if batch.oversized is not None:  # the server refuses it: reported the ordinary way
                await outbox.flush()
                await send(*batch.oversized)
                return

    async def collect_ingest(room: int, ingest: IngestBatcher, window: BatchWindow) -> None:
        """Up to `room` messages built from formats into the open fast-ingest batch."""
        run = ingest.build(room, outbox.max_payload, *window.slot())
        window.put_run(run.frames, run.jobs, run.payload_bytes)
        if run.oversized is not None:  # the server refuses it: reported the ordinary way
            await outbox.flush()
            await send(*run.oversized)

    async def collect(room: int) -> None:
        """Up to `room` messages, each collected by `Outbox.put` and logged when reported."""
        put, next_encoded, limit = outbox.put, factory.next_encoded_at, outbox.max_payload
        for _ in range(room):
            seq, event_type, payload = next_encoded(now_ns())
            if len(payload) > limit:  # the server refuses it: reported the ordinary way
                await outbox.flush()
                await send(seq, event_type, payload)
                return
            subject = subjects.get(event_type) or subject_of(event_type)
            msg_id = f"{source}-{seq}"
            put(subject, payload, msg_id, (msg_id, subject, seq, len(payload), event_type))

    async def flood() -> None:
        """Flat out: batches of messages, one hand-over and one yield per event-loop turn."""
        while not stop.is_set():
            want = FLOOD_BATCH if count is None else min(FLOOD_BATCH, count - factory.sequence)
            if want <= 0:
                return
            room = await outbox.room(want)
            if room == 0:  # no batching right now (e.g. reconnecting): one at a time
                await send_one()
                await pacer.wait(stop)
                continue
            if batcher is not None:
                await collect_core(room, batcher)
            elif ingest is not None and window is not None:
                await collect_ingest(room, ingest, window)
            else:
                await collect(room)
            try:
                await outbox.flush()
            except NatsError as exc:
                log.warning("Flushing published messages failed", error=str(exc))

    try:
        if pacer.interval == 0:
            await flood()
        else:
            while not stop.is_set():
                await send_one()
                if count is not None and factory.sequence >= count:
                    break
                await pacer.wait(stop)
    finally:
        await outbox.close(log, settings.drain_timeout)
        log.info("Publisher metrics", final=True, **stats.snapshot(outbox.retries))
    if count is not None and stats.errors:
        log.error("Not every message was published", failed=stats.errors, requested=count)
        return 1
    return 0
