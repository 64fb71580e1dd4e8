"""The dashboard's feed: one `>` subscription counted per second, the service API and JetStream
polled, and every open page sent one tick a second.

Per message the work is a check that someone published it, one count, one append to the
tail's ring, and, on `payments.` subjects, the payment watch. Everything a page gets is built
once per second (or per half second for tails) and shared: a page's pace never touches the
message path, and a page that cannot keep up gets a fresh snapshot instead of a backlog.

A `>` subscription is interest in every subject, so while it exists a request nobody serves
times out instead of failing at once with "no responders". So by default (`on-demand`) the
feed subscribes when the first page opens and unsubscribes a minute after the last one closed,
starting its counts afresh each time; `always` (what `up` runs, whose message logger holds `>`
anyway) counts from the start, so a page opened later shows the last five minutes.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Coroutine
from typing import Any, Final

import msgspec

from nats_pubsub.connection.core import Connection, Unsubscribe
from nats_pubsub.connection.js_admin import JsApi
from nats_pubsub.connection.service_api import gather
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
from nats_pubsub.gateway.dashboard.pages import Page, event, tail_message
from nats_pubsub.gateway.dashboard.payments import PAYMENT_PREFIX, PaymentWatch
from nats_pubsub.gateway.dashboard.streams_view import stream_rows
from nats_pubsub.gateway.dashboard.tail import TailBuffer
from nats_pubsub.gateway.dashboard.traffic import Traffic, is_published
from nats_pubsub.logs.logger import Logger

__all__ = [
    "LINGER",
    "SERVICES_EVERY",
    "STREAMS_EVERY",
    "TAIL_EVERY",
    "TAIL_LIMIT",
    "DashboardFeed",
]

SERVICES_EVERY: Final = 1.0
STREAMS_EVERY: Final = 2.0
TAIL_EVERY: Final = 0.5
TAIL_LIMIT: Final = 10  # messages per tail every TAIL_EVERY: 20 a second at most
LINGER: Final = 60.0  # on-demand: seconds the counting goes on after the last page closed
# (GATEWAY_DASHBOARD_LINGER)
_encode = msgspec.json.encode


class DashboardFeed:
    """Aggregates what the bus carries for the dashboard and hands it to open pages."""

    def __init__(
        self, log: Logger, version: str, mode: str = "on-demand", linger: float = LINGER
    ) -> None:
        self.log, self.version, self.mode, self.linger = log, version, mode, linger
        self.traffic = Traffic()
        self.payments = PaymentWatch()
        self.tail = TailBuffer()
        self.book = ServiceBook()
        self.streams: StreamsPanel | None = None
        self.counting_since = ""  # when the counts began (RFC 3339); empty while not counting
        self.pages: set[Page] = set()
        self.tails: set[Page] = set()
        self._tasks: list[asyncio.Task[None]] = []
        self._conn: Connection | None = None
        self._unsubscribe: Unsubscribe | None = None
        self._lock = asyncio.Lock()
        self._release: asyncio.TimerHandle | None = None

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

    @property
    def counting(self) -> bool:
        """True while the `>` subscription exists."""
        return self._unsubscribe is not None

    async def start(self, conn: Connection, api: JsApi, stopping: asyncio.Event) -> None:
        """Tick, poll and feed the tails until `stopping`; `always`: subscribe now."""
        self._conn = conn
        if self.mode == "always":
            await self._subscribe()
        loops: list[tuple[float, Callable[[], Coroutine[Any, Any, None]]]] = [
            (SERVICES_EVERY, lambda: self._poll_services(conn)),
            (STREAMS_EVERY, lambda: self._poll_streams(api)),
            (TAIL_EVERY, self._feed_tails),
        ]
        self._tasks = [asyncio.ensure_future(self._ticks(stopping))]
        self._tasks += [asyncio.ensure_future(self._every(s, job, stopping)) for s, job in loops]

    async def open_page(self, page: Page, tail: bool = False) -> None:
        """A page (or a tail) opened: count the bus if not already."""
        if self._release is not None:
            self._release.cancel()
            self._release = None
        if not self.counting:
            await self._subscribe()
        (self.tails if tail else self.pages).add(page)

    def close_page(self, page: Page) -> None:
        """A page (or a tail) closed: on-demand, stop counting a while after the last one."""
        self.pages.discard(page)
        self.tails.discard(page)
        if self.mode == "on-demand" and not self.pages and not self.tails:
            loop = asyncio.get_running_loop()
            self._release = loop.call_later(
                self.linger, lambda: asyncio.ensure_future(self._stop())
            )

    async def _subscribe(self) -> None:
        async with self._lock:
            if self._unsubscribe is not None or self._conn is None:
                return
            self.traffic, self.payments, self.tail = Traffic(), PaymentWatch(), TailBuffer()
            self._unsubscribe = await self._conn.subscribe_direct(
                ">", self.on_message, headers=True
            )
            await self._conn.flush()
            self.counting_since = format_ns(time.time_ns())
            self.log.info("Subscribed", subjects=[">"], purpose="dashboard", mode=self.mode)

    async def _stop(self) -> None:
        async with self._lock:
            unsubscribe, self._unsubscribe = self._unsubscribe, None
            self._release = None
            if unsubscribe is None or self.pages or self.tails:
                self._unsubscribe = unsubscribe
                return
            self.counting_since = ""
            with contextlib.suppress(NatsError):
                await unsubscribe()
            self.log.info("Unsubscribed", subjects=[">"], purpose="dashboard")

    async def close(self) -> None:
        """Stop the loops (the pages' handlers end their streams)."""
        if self._release is not None:
            self._release.cancel()
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
                if self.counting:
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
            if self.counting:
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
        ticked = event("tick", _encode(tick))
        for page in self.pages:
            if page.behind:
                page.behind = False
                page.put(self.snapshot_event())
            else:
                page.put(ticked)

    def snapshot_event(self) -> bytes:
        """The `snapshot` event a page starts from."""
        snapshot = Snapshot(
            version=self.version,
            mode=self.mode,
            counting_since=self.counting_since,
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
        return event("snapshot", _encode(snapshot))

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
            messages = [tail_message(e, encoded) for e in taken.entries]
            page.put(event("messages", _encode(TailBatch(messages, taken.skipped))))
