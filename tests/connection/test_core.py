"""Tests for nats_pubsub.connection.core: frames written at once or queued (real server)."""

from __future__ import annotations

import asyncio
import io
from typing import Any

import nats

from nats_pubsub.config import PublisherSettings
from nats_pubsub.config.client import connect_options
from nats_pubsub.connection.connect import connect
from nats_pubsub.connection.core import Connection
from nats_pubsub.logs.logger import Logger, LogSink
from nats_pubsub.server.embedded import EmbeddedServer


async def _connect(url: str) -> Connection:
    settings = PublisherSettings(nats_url=url)
    return await connect(
        connect_options(settings), name="connection-test", log=Logger("t", LogSink(io.BytesIO()))
    )


async def _receiver(url: str, subject: str) -> tuple[Any, asyncio.Queue[Any]]:
    nc = await nats.connect(url)
    got: asyncio.Queue[Any] = asyncio.Queue()

    async def cb(msg: Any) -> None:
        await got.put(msg)

    await nc.subscribe(subject, cb=cb)
    # nats-py's flush can return before the SUB is written (its PING overtakes queued data); a
    # probe published behind the SUB coming back proves the server has the subscription.
    await nc.publish(subject, b"probe")
    probe = await asyncio.wait_for(got.get(), 30)
    assert probe.data == b"probe"
    return nc, got


def test_idle_connection_writes_at_once(nats_server: EmbeddedServer, subject: str) -> None:
    """With nothing queued, a message goes to the socket in the call, not on a later turn."""

    async def scenario() -> tuple[bool, bytes, int]:
        conn = await _connect(nats_server.url)
        receiver, got = await _receiver(nats_server.url, subject)
        nc: Any = conn.client
        assert conn.hooks is not None
        written = conn.hooks.write_now(b"PUB %b 5\r\nhello\r\n" % subject.encode())
        pending = len(nc._pending)
        msg = await asyncio.wait_for(got.get(), 30)
        await receiver.close()
        await conn.close()
        return written, msg.data, pending

    written, data, pending = asyncio.run(scenario())
    assert written
    assert pending == 0
    assert data == b"hello"


def test_queued_data_keeps_its_place(nats_server: EmbeddedServer, subject: str) -> None:
    """While frames wait in the client's queue, a new one is refused, so order is kept."""

    async def scenario() -> bool:
        conn = await _connect(nats_server.url)
        nc: Any = conn.client
        nc._pending.append(b"PING\r\n")  # as nats-py queues a command before its flusher runs
        nc._pending_data_size += 6
        assert conn.hooks is not None
        written = conn.hooks.write_now(b"PUB %b 1\r\nx\r\n" % subject.encode())
        await conn.close()
        return written

    assert not asyncio.run(scenario())


def test_paced_ids_arrive_in_order(nats_server: EmbeddedServer, subject: str) -> None:
    """Messages published one at a time with ids arrive complete, in order, with their header."""

    async def scenario() -> list[tuple[bytes, str]]:
        conn = await _connect(nats_server.url)
        receiver, got = await _receiver(nats_server.url, subject)
        for n in range(200):
            await conn.publish_with_id(subject, b"%d" % n, f"id-{n}")
            if n % 50 == 0:
                await asyncio.sleep(0.001)  # let the socket drain: the next one is written at once
        out = []
        for _ in range(200):
            msg = await asyncio.wait_for(got.get(), 30)
            out.append((msg.data, msg.headers["Nats-Msg-Id"]))
        await receiver.close()
        await conn.close()
        return out

    assert asyncio.run(scenario()) == [(b"%d" % n, f"id-{n}") for n in range(200)]
