"""Subscriber workers: our services' handlers through our connection layer, bare nats-py, classic.

`ours` is `services.subscriber.make_handler` (or `services.monitor.make_handler`) fed by our
`connection.connect.connect` and `Inbox.subscribe`, logging every record for real to
/dev/null. `bare` only counts. `classic` is the stdlib pattern of `bench.classic`.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

import nats

from nats_pubsub.bench.classic import classic_logger, classic_receive
from nats_pubsub.bench.protocol import WorkerSpec, devnull_logger, emit, report_progress
from nats_pubsub.bench.report import new_histogram
from nats_pubsub.config import MonitorSettings, SubscriberSettings
from nats_pubsub.config.client import connect_options
from nats_pubsub.config.security import DEFAULT_PENDING_BYTES_LIMIT, DEFAULT_PENDING_MSGS_LIMIT
from nats_pubsub.connection.connect import connect
from nats_pubsub.domain.capture import SubjectStats
from nats_pubsub.domain.stats import LatencyHistogram, ReceiveStats
from nats_pubsub.services import monitor, subscriber
from nats_pubsub.services.inbox import Inbox
from nats_pubsub.services.js_consume import Handler

__all__ = ["run_subscriber_worker"]

_FIRST_MESSAGE_WAIT = 120.0  # seconds a subscriber waits for its first message


class _Tally:
    """Messages counted, the first and last arrival, and `done` once all expected are in."""

    def __init__(self, expect: int) -> None:
        self.expect = expect
        self.count = 0
        self.first = 0.0
        self.last = 0.0
        self.done = asyncio.Event()

    def tick(self) -> None:
        now = time.perf_counter()
        if not self.count:
            self.first = now
        self.count += 1
        self.last = now
        if self.count >= self.expect:
            self.done.set()


class _RecordingHistogram(LatencyHistogram):
    """The service's own latency histogram, also feeding an HDR histogram in microseconds."""

    def __init__(self, hdr: Any) -> None:
        super().__init__()
        self._hdr = hdr

    def observe(self, latency_ms: float) -> None:
        super().observe(latency_ms)
        self._hdr.record_value(min(max(int(latency_ms * 1000), 1), 60_000_000))


async def _ours(spec: WorkerSpec, tally: _Tally, hdr: Any) -> Any:
    log, _ = devnull_logger("nats-subscriber")
    handler: Handler
    settings: SubscriberSettings | MonitorSettings
    if spec.service == "monitor":
        settings = MonitorSettings(nats_url=spec.url, subjects=(spec.subject,))
        handler = monitor.make_handler(settings, log, SubjectStats(), asyncio.Event())
    else:
        settings = SubscriberSettings(nats_url=spec.url, nats_subject=spec.subject)
        stats = ReceiveStats()
        if spec.latency:
            stats.histogram = _RecordingHistogram(hdr)
        handler = subscriber.make_handler(settings, log, stats, asyncio.Event())
    conn = await connect(connect_options(settings), name="bench-sub", log=log)

    def counted(
        subject: str,
        reply: str,
        data: bytes,
        headers: dict[str, str] | None,
        extra: dict[str, Any] | None = None,
        /,
    ) -> str | None:
        result = handler(subject, reply, data, headers, extra)
        tally.tick()
        return result

    await Inbox(conn, log).subscribe(
        [spec.subject], None, counted, headers=spec.service == "monitor"
    )
    return conn.close


async def _nats_py(spec: WorkerSpec, tally: _Tally, hdr: Any) -> Any:
    nc = await nats.connect(spec.url, name="bench-sub")
    if spec.mode == "classic":
        logger = classic_logger("subscriber")
        record = hdr.record_value if spec.latency else None

        async def cb(msg: Any) -> None:
            latency = classic_receive(logger, msg.subject, msg.data, msg.reply)
            if record is not None and latency is not None:
                record(min(max(int(latency * 1000), 1), 60_000_000))
            tally.tick()

    else:

        async def cb(msg: Any) -> None:
            tally.tick()

    await nc.subscribe(
        spec.subject,
        cb=cb,
        pending_msgs_limit=DEFAULT_PENDING_MSGS_LIMIT,
        pending_bytes_limit=DEFAULT_PENDING_BYTES_LIMIT,
    )
    await nc.flush()
    return nc.close


async def run_subscriber_worker(spec: WorkerSpec) -> dict[str, Any]:
    """Subscribe, say ready, count until `msgs` arrived or the flow stopped; the result."""
    tally = _Tally(spec.msgs)
    hdr = new_histogram()
    close = await (_ours if spec.mode == "ours" else _nats_py)(spec, tally, hdr)
    emit(ready=True)
    started = time.perf_counter()
    reporter = asyncio.create_task(report_progress(lambda: tally.count)) if spec.progress else None
    while not tally.done.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(tally.done.wait(), 0.5)
        since = time.perf_counter() - (tally.last if tally.count else started)
        if since > (spec.idle_seconds if tally.count else _FIRST_MESSAGE_WAIT):
            break  # the publishers are done and some messages never came
    if reporter is not None:
        reporter.cancel()
    await close()
    seconds = tally.last - tally.first
    return {
        "messages": tally.count,
        "seconds": seconds,
        "rate": tally.count / seconds if seconds > 0 else 0.0,
        "hdr": hdr.encode().decode() if hdr.get_total_count() else None,
    }
