"""Tests for connection.direct: core messages handed to plain functions (real server)."""

from __future__ import annotations

import asyncio
import io
import json

import nats

from nats_pubsub.server.embedded import EmbeddedServer
from tests.helpers.connections import Inbox, Received, connect_subscriber


def test_burst_arrives_complete_and_in_order(nats_server: EmbeddedServer, subject: str) -> None:
    """Every message of a 20,000-message burst reaches the handler once, in order."""

    async def scenario() -> list[bytes]:
        conn = await connect_subscriber(nats_server.url, io.BytesIO())
        assert conn.direct_delivery  # this nats-py has the internals: the fast path is tested
        inbox = Inbox()
        await conn.subscribe_direct(subject, inbox)
        await conn.flush()
        sender = await nats.connect(nats_server.url)
        for n in range(20_000):
            await sender.publish(subject, b"%d" % n)
        await sender.flush()
        await inbox.wait(20_000)
        await sender.close()
        await conn.drain()
        return [m[2] for m in inbox.messages]

    got = asyncio.run(scenario())
    assert got == [b"%d" % n for n in range(20_000)]


def test_subject_reply_and_headers_are_passed(nats_server: EmbeddedServer, subject: str) -> None:
    """The handler gets subject, reply and (when asked for) the parsed headers."""

    async def scenario() -> tuple[Received, Received]:
        conn = await connect_subscriber(nats_server.url, io.BytesIO())
        plain, with_headers = Inbox(), Inbox()
        await conn.subscribe_direct(subject, plain)
        await conn.subscribe_direct(subject, with_headers, headers=True)
        await conn.flush()
        sender = await nats.connect(nats_server.url)
        await sender.publish(subject, b"x", reply="back.here", headers={"Nats-Msg-Id": "m-1"})
        await sender.flush()
        await plain.wait(1)
        await with_headers.wait(1)
        await sender.close()
        await conn.drain()
        return plain.messages, with_headers.messages

    plain, with_headers = asyncio.run(scenario())
    assert plain == [(subject, "back.here", b"x", None)]
    assert with_headers == [(subject, "back.here", b"x", {"Nats-Msg-Id": "m-1"})]


def test_failing_handler_is_reported_and_delivery_goes_on(
    nats_server: EmbeddedServer, subject: str
) -> None:
    """A handler that raises is logged (at 1, 2, 4... failures) and later messages still arrive."""

    async def scenario() -> tuple[list[bytes], str]:
        stream = io.BytesIO()
        conn = await connect_subscriber(nats_server.url, stream)
        good = Inbox()

        def handler(subject: str, reply: str, data: bytes, headers: object) -> None:
            if data.startswith(b"bad"):
                raise ValueError("cannot handle " + data.decode())
            good(subject, reply, data, headers)

        await conn.subscribe_direct(subject, handler)
        await conn.flush()
        sender = await nats.connect(nats_server.url)
        for payload in (b"bad-1", b"good-1", b"bad-2", b"bad-3", b"good-2"):
            await sender.publish(subject, payload)
        await sender.flush()
        await good.wait(2)
        await sender.close()
        await conn.drain()
        return [m[2] for m in good.messages], stream.getvalue().decode()

    got, output = asyncio.run(scenario())
    assert got == [b"good-1", b"good-2"]
    failures = [json.loads(line) for line in output.splitlines() if "handler failed" in line]
    assert [(r["total"], r["error_type"]) for r in failures] == [
        (1, "ValueError"),
        (2, "ValueError"),
    ]
    assert failures[0]["error"] == "cannot handle bad-1"
