"""Live streams' plumbing: one JetStream feed per (stream, filter) shared by its clients, and a
bounded queue per client.

A feed (`connection.replay_feed.ReplayFeed`, following) starts after the stream's last message
and, when NATS restarts or the consumer is lost, resumes after the last message it handed over.
It hands each message to every client's queue without waiting: a client whose queue is full
misses the message, and the client's sender gets a `Lag` marker with the count right after what
was queued. So a slow client never slows the feed or the other clients, and memory stays bounded
(queue x clients).
Each message is encoded at most once per format (protobuf frame, JSON frame, SSE event), lazily.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Callable
from typing import Any, NamedTuple

from nats_pubsub.connection.core import Connection
from nats_pubsub.connection.js_admin import JsApi
from nats_pubsub.connection.js_streams import JetStream
from nats_pubsub.connection.replay_feed import ReplayFeed
from nats_pubsub.domain.stream_rules import ReplayStart
from nats_pubsub.errors import NatsError
from nats_pubsub.gateway.stats import HttpStats

__all__ = ["ClientQueue", "Ended", "Lag", "LiveFeed", "LiveHubs", "LiveItem"]


class LiveItem:
    """One message for live clients; `encoded(key, make)` keeps one encoding per format."""

    __slots__ = ("_cache", "data", "seq", "stream", "subject", "time_ns")

    def __init__(self, subject: str, data: bytes, seq: int, time_ns: int, stream: str) -> None:
        self.subject, self.data, self.seq = subject, data, seq
        self.time_ns, self.stream = time_ns, stream
        self._cache: dict[str, Any] = {}

    def encoded(self, key: str, make: Callable[[LiveItem], Any]) -> Any:
        """This message in format `key`, made once by `make`."""
        value = self._cache.get(key)
        if value is None:
            value = self._cache[key] = make(self)
        return value


class Lag(NamedTuple):
    """A client missed `missed` messages here (its queue was full)."""

    missed: int


class Ended(NamedTuple):
    """The feed ended (NATS failure, shutdown); `reason` says why."""

    reason: str


Entry = LiveItem | Lag | Ended


class ClientQueue:
    """What one live client has still to be sent: at most `capacity` messages."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._items: deque[Entry] = deque()
        self._messages = 0
        self.missed = 0  # missed since the last Lag marker
        self.missed_total = 0
        self._ready = asyncio.Event()

    def put(self, item: LiveItem) -> bool:
        """Queue a message; False (counted as missed) when the queue is full."""
        if self._messages >= self.capacity:
            self.missed += 1
            self.missed_total += 1
            return False
        self._items.append(item)
        self._messages += 1
        self._ready.set()
        return True

    def end(self, reason: str) -> None:
        """Queue the end of the stream."""
        self._items.append(Ended(reason))
        self._ready.set()

    async def take(self) -> list[Entry]:
        """Everything queued, waiting until there is something; a `Lag` last when messages
        were missed (they were all dropped after the ones queued: the queue was full)."""
        while not self._items:
            self._ready.clear()
            await self._ready.wait()
        items = list(self._items)
        self._items.clear()
        self._messages = 0
        if self.missed:
            items.append(Lag(self.missed))
            self.missed = 0
        return items


class LiveFeed:
    """One JetStream feed on (stream, filter) and the client queues it fills; messages a full
    queue refuses are counted in `stats.live_missed` as they are dropped."""

    def __init__(self, stream: str, subject: str, stats: HttpStats) -> None:
        self.stream = stream
        self.subject = subject
        self.clients: set[ClientQueue] = set()
        self._stats = stats
        self._feed: ReplayFeed | None = None
        self._task: asyncio.Task[None] | None = None

    def hand_over(  # the feed's sink: called for each message, in order
        self,
        subject: str,
        headers: dict[str, str] | None,
        data: bytes,
        seq: int,
        time_ns: int,
        pending: int,
    ) -> None:
        item = LiveItem(subject, data, seq, time_ns, self.stream)
        missed = 0
        for client in self.clients:
            if not client.put(item):
                missed += 1
        if missed:
            self._stats.live_missed += missed

    async def open(self, conn: Connection, js: JetStream, start: ReplayStart) -> None:
        """Start following from `start`."""
        self._feed = ReplayFeed(
            conn, js, self.stream, self.subject, start, self.hand_over, follow=True, batch=1000
        )
        await self._feed.open()
        self._task = asyncio.ensure_future(self._follow())

    async def _follow(self) -> None:
        assert self._feed is not None
        reason = "stream ended"
        try:
            await self._feed.wait(asyncio.Event())
        except NatsError as exc:
            reason = str(exc)
        for client in self.clients:
            client.end(reason)

    async def close(self) -> None:
        """Stop the feed and delete its consumer."""
        if self._task is not None:
            self._task.cancel()
        if self._feed is not None:
            with contextlib.suppress(NatsError):
                await self._feed.close()


class LiveHubs:
    """Every live feed of one gateway; feeds from "now" are shared by their clients."""

    def __init__(self, conn: Connection, api: JsApi, js: JetStream, stats: HttpStats) -> None:
        self._conn, self._api, self._js, self._stats = conn, api, js, stats
        self._shared: dict[tuple[str, str], LiveFeed] = {}
        self._lock = asyncio.Lock()

    async def _after_last(self, stream: str) -> ReplayStart:
        info = await self._api.stream_info(stream)
        last = int((info.get("state") or {}).get("last_seq") or 0)
        return ReplayStart("by_start_sequence", start_sequence=last + 1, text="new")

    async def join(
        self, stream: str, subject: str, client: ClientQueue, after: int | None = None
    ) -> LiveFeed:
        """Add `client` to the feed of (stream, subject) from now on, or (`after`: a sequence)
        to a feed of its own that starts after that sequence."""
        if after is not None:
            feed = LiveFeed(stream, subject, self._stats)
            feed.clients.add(client)
            start = ReplayStart("by_start_sequence", start_sequence=after + 1, text="resume")
            await feed.open(self._conn, self._js, start)
            return feed
        async with self._lock:
            shared = self._shared.get((stream, subject))
            if shared is None:
                shared = LiveFeed(stream, subject, self._stats)
                await shared.open(self._conn, self._js, await self._after_last(stream))
                self._shared[(stream, subject)] = shared
            shared.clients.add(client)
        return shared

    async def leave(self, feed: LiveFeed, client: ClientQueue) -> None:
        """Remove `client`; a feed without clients stops."""
        async with self._lock:
            feed.clients.discard(client)
            if feed.clients:
                return
            if self._shared.get((feed.stream, feed.subject)) is feed:
                del self._shared[(feed.stream, feed.subject)]
        await feed.close()

    async def close(self) -> None:
        """Stop every shared feed (shutdown; the clients' handlers close their sockets)."""
        feeds = list(self._shared.values())
        self._shared.clear()
        for feed in feeds:
            await feed.close()
