"""A connection made as a service makes it, and a direct handler that collects what it gets
(connection-layer tests against real servers)."""

from __future__ import annotations

import asyncio
import io
from typing import Any

from nats_pubsub.config import SubscriberSettings
from nats_pubsub.config.client import connect_options
from nats_pubsub.connection.connect import connect
from nats_pubsub.connection.core import Connection
from nats_pubsub.logs.logger import Logger, LogSink

Received = list[tuple[str, str, bytes, dict[str, str] | None]]


async def connect_subscriber(url: str, stream: io.BytesIO, **more: Any) -> Connection:
    """A connection made as a subscriber's is (its settings' `more`), logging to `stream`."""
    settings = SubscriberSettings(nats_url=url, **more)
    return await connect(
        connect_options(settings), name="direct-test", log=Logger("t", LogSink(stream))
    )


class Inbox:
    """What a direct handler received; `wait(n)` returns once n messages are in."""

    def __init__(self) -> None:
        self.messages: Received = []
        self._grew = asyncio.Event()

    def __call__(self, subject: str, reply: str, data: bytes, headers: Any) -> None:
        self.messages.append((subject, reply, data, headers))
        self._grew.set()

    async def wait(self, count: int, timeout: float = 30.0) -> None:
        async with asyncio.timeout(timeout):
            while len(self.messages) < count:
                self._grew.clear()
                await self._grew.wait()
