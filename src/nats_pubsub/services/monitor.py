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
from nats_pubsub.services.announce import announce_service
from nats_pubsub.services.inbox import Inbox
from nats_pubsub.services.js_consume import Handler
from nats_pubsub.services.options import consume_options

if TYPE_CHECKING:
    from nats_pubsub.config import MonitorSettings

__all__ = ["DEFAULT_DURABLE", "make_handler", "run_monitor"]

DEFAULT_DURABLE = "payment-monitor"
_MAX_CACHED_SUBJECTS = 10_000
_LEVELS = ("INFO", "WARNING", "ERROR")


def make_handler(
    settings: MonitorSettings, log: Logger, stats: SubjectStats, reached: asyncio.Event
) -> Handler:
    """The per-message work: skip ignored subjects, classify, sample, log, count."""
    # A payload shown as text may be as long as --max-payload-bytes; other strings are cut at
    # the logger's limit (subjects, headers: see logs/bounds.py).
    log.max_field_chars = max(log.max_field_chars, settings.max_payload_bytes)
    return _capturing(settings, log, stats, reached, _Ignored(settings.ignore_patterns))


class _Ignored:
    """`is_ignored` per subject, remembered for up to `_MAX_CACHED_SUBJECTS` subjects (the
    handler reads `known` inline: one dict lookup per message)."""

    def __init__(self, patterns: tuple[str, ...]) -> None:
        self._patterns = patterns
        self.known: dict[str, bool] = {}

    def decide(self, subject: str) -> bool:
        """Whether `subject` is ignored, decided and remembered."""
        known = self.known
        if len(known) >= _MAX_CACHED_SUBJECTS:
            known.clear()
        skip = known[subject] = is_ignored(subject, self._patterns)
        return skip


def _capturing(
    settings: MonitorSettings,
    log: Logger,
    stats: SubjectStats,
    reached: asyncio.Event,
    ignored: _Ignored,
) -> Handler:
    count, max_bytes, max_chars = settings.count, settings.max_payload_bytes, log.max_field_chars
    sample_rate, errors_only = settings.sample_rate, settings.errors_only
    log_all = sample_rate == 1 and not errors_only  # should_log is then always True
    ignored_subjects, decide_ignored = ignored.known, ignored.decide
    captured_at = {level: log.emitter(level, "Message captured", "on_message") for level in _LEVELS}
    # The common message: its record queued as values, encoded with the batch (same JSON).
    values_at = {
        level: log.record_emitter(level, "Message captured", CAPTURED_FIELDS, "on_message")
        for level in _LEVELS
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
            skip = decide_ignored(subject)
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
            level, values = fast
        index = stats.messages
        stats.add(subject, len(data), level)
        if log_all or should_log(level, index, sample_rate, errors_only):
            stats.logged += 1
            if fast is not None:
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
            options,
            wanted,
            None,
            handler,
            stop,
            headers=True,
            limit=settings.count,
            deadline=None if settings.timeout is None else started + settings.timeout,
        )
    except (NatsError, ValueError) as exc:
        log.error("Could not subscribe", subjects=subjects, error=str(exc))
        await conn.close()
        return 0 if stop.is_set() else 1  # stopped while JetStream was busy: not a failure
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
    await announce_service(conn, "monitor", settings, log, capture=stats, consume=inbox.stats)
    timed_out = await inbox.serve(
        stop,
        reached,
        time_left(settings.timeout, started),
        settings.metrics_interval,
        "Monitor metrics",
        lambda: stats.snapshot(settings.top_subjects),
    )
    return inbox.outcome(timed_out, stats.messages, settings.count, settings.timeout, "captured")
