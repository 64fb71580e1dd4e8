"""Publishing for HTTP requests: the envelope written to JetStream, and acks awaited per request
through one shared bounded window (`connection.ack_window.AckWindow`), so concurrent requests
share round trips.

The window sends each message with `Nats-Msg-Id` set to its `message_id`: a retried POST with
the same id is stored once (the ack then says `duplicate`).
"""

from __future__ import annotations

import asyncio
from typing import Any

import msgspec

from nats_pubsub.connection.ack_window import AckWindow
from nats_pubsub.connection.core import Connection
from nats_pubsub.connection.pub_ack import PubAckInfo
from nats_pubsub.domain.stats import PublishStats
from nats_pubsub.errors import JetStreamError
from nats_pubsub.logs.logger import Logger

__all__ = ["Publisher", "envelope"]

_encode = msgspec.json.encode
_ATTEMPTS = 3  # an HTTP request waits for at most this many ack timeouts


def envelope(message_id: str, timestamp: str, source: str, data: bytes) -> bytes:
    """The stored message: `{"message_id", "timestamp", "source", "data"}`; `data` is JSON."""
    return b'{"message_id":%b,"timestamp":"%b","source":%b,"data":%b}' % (
        _encode(message_id),
        timestamp.encode(),
        _encode(source),
        data,
    )


class Publisher:
    """Acked JetStream publishing for many concurrent callers, each awaiting its own ack."""

    def __init__(
        self, conn: Connection, *, window: int, ack_timeout: float, log: Logger, stats: PublishStats
    ) -> None:
        self.stats = stats
        self._window = AckWindow(
            conn,
            window=window,
            ack_timeout=ack_timeout,
            give_up_after=ack_timeout * _ATTEMPTS,
            no_responders_final=True,  # no stream yet: the caller creates one (api_messages)
            on_ack=self._acked,
            on_fail=self._failed,
            log=log,
        )

    async def start(self) -> None:
        """Subscribe for acks (once, before the first publish)."""
        await self._window.start()

    async def publish(self, subject: str, payload: bytes, msg_id: str) -> PubAckInfo:
        """Publish and wait for the stream's ack; JetStreamError if none came or it refused."""
        done: asyncio.Future[PubAckInfo] = asyncio.get_running_loop().create_future()
        await self._window.publish(subject, payload, msg_id, (done, len(payload)))
        return await done

    def _acked(self, context: Any, ack: PubAckInfo) -> None:
        done, size = context
        stats = self.stats
        if ack.duplicate:
            stats.duplicates += 1
        else:
            stats.published += 1
            stats.published_bytes += size
        if not done.done():
            done.set_result(ack)

    def _failed(self, context: Any, reason: str) -> None:
        done, _ = context
        self.stats.errors += 1
        if not done.done():
            done.set_exception(JetStreamError(reason))

    async def wait_all(self, timeout: float) -> bool:
        """Wait for every publish in flight to be settled (shutdown)."""
        return await self._window.wait_all(timeout)
