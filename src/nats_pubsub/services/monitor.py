"""`nats-pubsub monitor`: log every message on the watched subjects, classified by severity."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any

from nats_pubsub.config.client import connect_options
from nats_pubsub.connection.connect import ConnectLimit, connect
from nats_pubsub.domain.capture import SubjectStats, capture, is_ignored, should_log
from nats_pubsub.domain.capture_fast import CAPTURED_FIELDS, capture_fast, capture_values
from nats_pubsub.errors import NatsError
from nats_pubsub.lifecycle import time_left
from nats_pubsub.logs.bounds import bound_values
from nats_pubsub.logs.logger import Logger
from nats_pubsub.observability.health import expose
from nats_pubsub.services.inbox import Handler, Inbox
from nats_pubsub.services.options import consume_options

if TYPE_CHECKING:
    from nats_pubsub.config import MonitorSettings

__all__ = ["DEFAULT_DURABLE", "make_handler", "run_monitor"]

DEFAULT_DURABLE = "payment-monitor"
_MAX_CACHED_SUBJECTS = 10_000


def make_handler(
    settings: MonitorSettings, log: Logger, stats: SubjectStats, reached: asyncio.Event
) -> Handler:
    """The per-message work: skip ignored subjects, classify, sample, log, count."""
    count = settings.count
    ignore = settings.ignore_patterns
    ignored_subjects: dict[str, bool] = {}  # is_ignored per subject, bounded
    max_bytes, sample_rate, errors_only = (
        settings.max_payload_bytes,
        settings.sample_rate,
        settings.errors_only,
    )
    log_all = sample_rate == 1 and not errors_only  # should_log is then always True
    # A payload shown as text may be as long as --max-payload-bytes; other strings are cut at
    # the logger's limit (subjects, headers: see log_bounds).
    log.max_field_chars = max_chars = max(log.max_field_chars, max_bytes)
    levels = ("INFO", "WARNING", "ERROR")
    captured_at = {level: log.emitter(level, "Message captured", "on_message") for level in levels}
    # The common message: its record queued as values, encoded with the batch (same JSON).
    values_at = {
        level: log.record_emitter(level, "Message captured", CAPTURED_FIELDS, "on_message")
        for level in levels
    }

    def on_message(
        subject: str,
        reply: str,
        data: bytes,
        headers: dict[str, str] | None,
        extra: dict[str, Any] | None = None,
        /,
    ) -> str | None:
        skip = ignored_subjects.get(subject)
        if skip is None:
            if len(ignored_subjects) >= _MAX_CACHED_SUBJECTS:
                ignored_subjects.clear()
            skip = ignored_subjects[subject] = is_ignored(subject, ignore)
        if skip:
            stats.ignored += 1
            return None
        fast = None if extra else capture_values(subject, reply, data, headers, max_bytes)
        if fast is None:
            captured = (
                capture_fast(subject, reply, data, headers, max_bytes) if extra else None
            ) or capture(subject, reply, data, headers, max_bytes)
            level = captured.level
        else:
            level = fast[0]
        index = stats.messages
        stats.add(subject, len(data), level)
        if log_all or should_log(level, index, sample_rate, errors_only):
            stats.logged += 1
            if fast is not None:
                values = fast[1]
                if len(subject) + len(reply) > max_chars or (
                    headers and _long_headers(headers, max_chars)
                ):
                    values = bound_values(values, max_chars)
                values_at[level](*values)
            else:
                fields = captured.fields
                if extra:
                    fields = {**fields, **extra}
                captured_at[level](fields)
        if count is not None and stats.messages >= count:
            reached.set()
        return None  # capturing never fails: whatever arrived is logged as it is

    return on_message


def _long_headers(headers: dict[str, str], limit: int) -> bool:
    """True when a header name or value is longer than `limit` characters."""
    # A plain loop, not any(...): no generator made per message on the hot path.
    for name, value in headers.items():  # noqa: SIM110
        if len(name) > limit or len(value) > limit:
            return True
    return False


async def run_monitor(settings: MonitorSettings, log: Logger, stop: asyncio.Event) -> int:
    """Capture until stopped, `count` messages were captured, or `timeout` passed."""
    started = time.monotonic()
    limit = None if settings.timeout is None else ConnectLimit(settings.timeout, "--timeout")
    name = f"monitor-{settings.hostname}"
    try:
        conn = await connect(connect_options(settings), name=name, log=log, stop=stop, limit=limit)
    except NatsError as exc:
        log.error("Could not connect to NATS", error=str(exc))
        return 0 if stop.is_set() else 1
    stats = SubjectStats()
    reached = asyncio.Event()
    handler = make_handler(settings, log, stats, reached)
    inbox = Inbox(conn, log)
    subjects = list(settings.subscriptions)
    # With JetStream, "everything" means the payments stream unless another is named.
    wanted = subjects
    if settings.jetstream and subjects == [">"] and not settings.stream_name:
        wanted = ["payments.>"]
    try:
        options = consume_options(settings, wanted[0], DEFAULT_DURABLE)
        bound = await inbox.start(
            options, wanted, None, handler, stop, headers=True, limit=settings.count
        )
    except (NatsError, ValueError) as exc:
        log.error("Could not subscribe", subjects=subjects, error=str(exc))
        await conn.close()
        return 1
    log.info(
        "Subscribed",
        subjects=subjects,
        ignore=list(settings.ignore_patterns),
        count=settings.count,
        timeout_seconds=settings.timeout,
        sample_rate=settings.sample_rate,
        errors_only=settings.errors_only,
        jetstream=settings.jetstream,
        **bound,
    )
    expose(conn, capture=stats, consume=inbox.stats)
    timed_out = await inbox.serve(
        stop,
        reached,
        time_left(settings.timeout, started),
        settings.metrics_interval,
        "Monitor metrics",
        lambda: stats.snapshot(settings.top_subjects),
    )
    return inbox.outcome(timed_out, stats.messages, settings.count, settings.timeout, "captured")
