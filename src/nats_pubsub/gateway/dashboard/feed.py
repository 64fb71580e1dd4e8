"""The dashboard's feed: one `>` subscription counted per second, the service API and JetStream
polled, and every open page sent one tick a second.

Per message the work is a check that someone published it, one count, one append to the
tail's ring, and, on `payments.` subjects, the payment watch. Everything a page gets is built
once per second (or per half second for tails) and shared: a page's pace never touches the
message path, and a page that cannot keep up gets a fresh snapshot instead of a backlog.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Callable, Coroutine
from typing import Any, Final

import msgspec

from nats_pubsub.connection.core import Connection
from nats_pubsub.connection.js_admin import JsApi
from nats_pubsub.connection.service_api import gather
from nats_pubsub.domain.capture import render_payload
from nats_pubsub.domain.service_api import STATS_SUBJECT, ServiceBook, parse_stats
from nats_pubsub.domain.timeutil import format_ns
from nats_pubsub.errors import JetStreamError, JetStreamUnavailable, NatsError
from nats_pubsub.gateway.dashboard.models import (
    Snapshot,
    StreamsPanel,
    TailBatch,
    TailMessage,
    Tick,
)
from nats_pubsub.gateway.dashboard.payments import PAYMENT_PREFIX, PaymentWatch
from nats_pubsub.gateway.dashboard.streams_view import stream_rows
from nats_pubsub.gateway.dashboard.tail import KEEP_BYTES, TailBuffer, TailCursor, TailEntry
from nats_pubsub.gateway.dashboard.traffic import Traffic, is_published
from nats_pubsub.logs.logger import Logger

__all__ = ["SERVICES_EVERY", "STREAMS_EVERY", "TAIL_EVERY", "TAIL_LIMIT", "DashboardFeed", "Page"]

SERVICES_EVERY: Final = 1.0
STREAMS_EVERY: Final = 2.0
TAIL_EVERY: Final = 0.5
TAIL_LIMIT: Final = 10  # messages per tail every TAIL_EVERY: 20 a second at most
PAGE_QUEUE: Final = 30  # events held for a page before it gets a snapshot instead
_encode = msgspec.json.encode


def _event(name: str, data: bytes) -> bytes:
    return b"event: %b\ndata: %b\n\n" % (name.encode(), data)


class Page:
    """One open page's queue of events (a feed, or a tail with its cursor)."""

    def __init__(self, cursor: TailCursor | None = None) -> None:
        self.cursor = cursor
        self.events: deque[bytes] = deque()
        self.ready = asyncio.Event()
        self.behind = False  # it fell behind: the next event it gets is a snapshot

    def put(self, event: bytes) -> None:
        """Queue an event (a page PAGE_QUEUE events behind is reset instead)."""
        if len(self.events) >= PAGE_QUEUE:
            self.events.clear()
            self.behind = True
        self.events.append(event)
        self.ready.set()

    async def take(self) -> list[bytes]:
        """Every queued event, waiting until there is one."""
        while not self.events:
            self.ready.clear()
            await self.ready.wait()
        events = list(self.events)
        self.events.clear()
        return events


class DashboardFeed:
    """Aggregates what the bus carries for the dashboard and hands it to open pages."""

    def __init__(self, log: Logger, version: str) -> None:
        self.log, self.version = log, version
        self.traffic = Traffic()
        self.payments = PaymentWatch()
        self.tail = TailBuffer()
        self.book = ServiceBook()
        self.streams: StreamsPanel | None = None
        self.pages: set[Page] = set()
        self.tails: set[Page] = set()
        self._tasks: list[asyncio.Task[None]] = []

    # -- the message path --

    def on_message(
        self, subject: str, reply: str, data: bytes, headers: dict[str, str] | None
    ) -> None:
        """Every message on `>` (a direct subscription's handler)."""
        if not is_published(subject, reply):
            return
        self.traffic.count(subject, len(data))
        received = time.time_ns()
        self.tail.add(subject, data, headers, received)
        if subject.startswith(PAYMENT_PREFIX):
            self.payments.see(subject, data, received)

    # -- running --

    async def start(self, conn: Connection, api: JsApi, stopping: asyncio.Event) -> None:
        """Subscribe, then tick, poll and feed the tails until `stopping`."""
        await conn.subscribe_direct(">", self.on_message, headers=True)
        await conn.flush()
        self.log.info("Subscribed", subjects=[">"], purpose="dashboard")
        loops: list[tuple[float, Callable[[], Coroutine[Any, Any, None]]]] = [
            (SERVICES_EVERY, lambda: self._poll_services(conn)),
            (STREAMS_EVERY, lambda: self._poll_streams(api)),
            (TAIL_EVERY, self._feed_tails),
        ]
        self._tasks = [asyncio.ensure_future(self._ticks(stopping))]
        self._tasks += [asyncio.ensure_future(self._every(s, job, stopping)) for s, job in loops]

    async def close(self) -> None:
        """Stop the loops (the pages' handlers end their streams)."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def _every(
        self, seconds: float, job: Callable[[], Coroutine[Any, Any, None]], stop: asyncio.Event
    ) -> None:
        """Run `job` every `seconds` (start to start) until `stop`; a failure is logged and the
        next run goes ahead."""
        loop = asyncio.get_running_loop()
        while not stop.is_set():
            started = loop.time()
            try:
                await job()
            except Exception as exc:  # a panel goes stale; the feed and the gateway carry on
                self.log.warning("Dashboard update failed", error=repr(exc))
            wait = max(0.0, seconds - (loop.time() - started))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), wait)

    async def _ticks(self, stopping: asyncio.Event) -> None:
        """Close each second on the wall clock's boundary and send it to every page."""
        while not stopping.is_set():
            boundary = int(time.time()) + 1
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), max(0.0, boundary - time.time()))
            self.tick(boundary - 1)  # a timer firing a little early still closes this second

    def tick(self, t: int) -> None:
        """End second `t` and send it to every open page."""
        second = self.traffic.close_second(t)
        paid, declines = self.payments.close_second(t)
        tick = Tick(
            second=second,
            payments=paid,
            payment_totals=self.payments.totals(),
            declines=declines,
            totals=self.traffic.totals,
            total_messages=self.traffic.total_messages,
            total_bytes=self.traffic.total_bytes,
            services=self.book.rows(time.monotonic(), time.time_ns()),
            streams=self.streams,
        )
        event = _event("tick", _encode(tick))
        for page in self.pages:
            if page.behind:
                page.behind = False
                page.put(self.snapshot_event())
            else:
                page.put(event)

    def snapshot_event(self) -> bytes:
        """The `snapshot` event a page starts from."""
        snapshot = Snapshot(
            version=self.version,
            history=list(self.traffic.history),
            payments=list(self.payments.history),
            payment_totals=self.payments.totals(),
            declines=list(self.payments.last),
            totals=self.traffic.totals,
            total_messages=self.traffic.total_messages,
            total_bytes=self.traffic.total_bytes,
            services=self.book.rows(time.monotonic(), time.time_ns()),
            streams=self.streams,
        )
        return _event("snapshot", _encode(snapshot))

    async def _poll_services(self, conn: Connection) -> None:
        try:
            answers = await gather(conn, STATS_SUBJECT)
        except NatsError:
            return  # not connected: nobody is seen answering, so services turn grey
        seen = [s for s in map(parse_stats, answers) if s is not None]
        self.book.record(seen, time.monotonic(), time.time_ns())

    async def _poll_streams(self, api: JsApi) -> None:
        try:
            infos = await api.streams()
            consumers = {}
            for info in infos:
                name = str((info.get("config") or {}).get("name", ""))
                consumers[name] = await api.consumers(name)
        except JetStreamUnavailable:
            self.streams = StreamsPanel([], "JetStream is not enabled on this NATS server")
            return
        except (JetStreamError, NatsError) as exc:
            self.streams = StreamsPanel([], f"JetStream did not answer: {exc}")
            return
        self.streams = StreamsPanel(stream_rows(infos, consumers, time.time_ns()))

    async def _feed_tails(self) -> None:
        encoded: dict[int, TailMessage] = {}
        for page in self.tails:
            assert page.cursor is not None
            taken = page.cursor.take(self.tail, TAIL_LIMIT)
            if not taken.entries and not taken.skipped:
                continue
            messages = [_tail_message(e, encoded) for e in taken.entries]
            page.put(_event("messages", _encode(TailBatch(messages, taken.skipped))))


def _tail_message(entry: TailEntry, cache: dict[int, TailMessage]) -> TailMessage:
    found = cache.get(entry.n)
    if found is None:
        shown = render_payload(entry.data, KEEP_BYTES)
        found = cache[entry.n] = TailMessage(
            n=entry.n,
            subject=entry.subject,
            received=format_ns(entry.time_ns),
            size_bytes=entry.size,
            encoding=shown.encoding,
            data=shown.value,
            truncated=shown.truncated or entry.size > len(entry.data),
            headers=entry.headers,
        )
    return found
