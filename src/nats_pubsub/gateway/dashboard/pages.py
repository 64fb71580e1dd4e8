"""An open page's side of the dashboard, pure of I/O: its bounded queue of Server-Sent Events,
and how a sampled tail message is written for it."""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Final

from nats_pubsub.domain.capture import render_payload
from nats_pubsub.domain.timeutil import format_ns
from nats_pubsub.gateway.dashboard.models import TailMessage
from nats_pubsub.gateway.dashboard.tail import KEEP_BYTES, TailCursor, TailEntry

__all__ = ["PAGE_QUEUE", "Page", "event", "tail_message"]

PAGE_QUEUE: Final = 30  # events held for a page before it gets a snapshot instead


def event(name: str, data: bytes) -> bytes:
    """One Server-Sent Event."""
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


def tail_message(entry: TailEntry, cache: dict[int, TailMessage]) -> TailMessage:
    """`entry` as a page shows it, made once per flush for every tail (`cache`: by number)."""
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
