"""Tests for connection.reader: the routing parser against a real server's protocol stream."""

from __future__ import annotations

import asyncio
import io
import os

import nats
from hypothesis import given, settings
from hypothesis import strategies as st
from nats.aio.client import Client as NatsClient

from nats_pubsub.connection.reader import plain_headers
from nats_pubsub.server.embedded import EmbeddedServer
from tests.helpers.connections import Inbox, connect_subscriber


def test_big_messages_split_across_reads_arrive_whole(
    nats_server: EmbeddedServer, subject: str
) -> None:
    """Messages larger than a socket read, with headers and replies, arrive byte for byte."""
    payloads = [os.urandom(200_000 + n) for n in range(12)]

    async def scenario() -> list[tuple[str, str, bytes, dict[str, str] | None]]:
        conn = await connect_subscriber(nats_server.url, io.BytesIO())
        assert conn.direct_delivery  # the parser under test is the one in use
        inbox = Inbox()
        await conn.subscribe_direct(subject, inbox, headers=True)
        await conn.flush()
        sender = await nats.connect(nats_server.url)
        for n, payload in enumerate(payloads):
            await sender.publish(subject, payload, reply=f"r.{n}", headers={"N": str(n)})
        await sender.flush()
        await inbox.wait(len(payloads))
        await sender.close()
        await conn.drain()
        return inbox.messages

    got = asyncio.run(scenario())
    assert got == [(subject, f"r.{n}", p, {"N": str(n)}) for n, p in enumerate(payloads)]


def test_routed_and_plain_subscriptions_share_a_connection(
    nats_server: EmbeddedServer, subject: str
) -> None:
    """Messages of subscriptions the router does not own still reach nats-py's callbacks."""

    async def scenario() -> tuple[list[bytes], list[bytes], bytes]:
        conn = await connect_subscriber(nats_server.url, io.BytesIO())
        routed = Inbox()
        plain: list[bytes] = []
        all_plain = asyncio.Event()

        async def on_plain(msg: object) -> None:
            plain.append(msg.data)  # type: ignore[attr-defined]
            if len(plain) == 500:
                all_plain.set()

        await conn.subscribe_direct(subject, routed)
        await conn.subscribe(subject, on_plain)
        responder = await nats.connect(nats_server.url)

        async def answer(msg: object) -> None:
            await msg.respond(b"pong:" + msg.data)  # type: ignore[attr-defined]

        await responder.subscribe(subject + ".ask", cb=answer)
        await responder.flush()
        await conn.flush()
        for n in range(500):
            await responder.publish(subject, b"%d" % n)
        await responder.flush()
        reply = await conn.client.request(subject + ".ask", b"ping", timeout=10)
        await routed.wait(500)
        async with asyncio.timeout(30):
            await all_plain.wait()
        await responder.close()
        await conn.drain()
        return [m[2] for m in routed.messages], plain, reply.data

    routed, plain, reply = asyncio.run(scenario())
    assert routed == plain == [b"%d" % n for n in range(500)]
    assert reply == b"pong:ping"  # a request's reply (nats-py's own inbox) gets through


_header_names = st.text(alphabet=st.characters(max_codepoint=0x7F), max_size=6) | st.sampled_from(
    ["Nats-Msg-Id", "a b", "\x1cname", " x ", "", "ü"]
)
_header_values = st.text(max_size=8) | st.binary(max_size=6).map(lambda b: b.decode("latin-1"))


@settings(max_examples=300)
@given(
    lines=st.lists(
        st.tuples(_header_names, st.sampled_from([":", ": ", " :", ""]), _header_values),
        max_size=5,
    )
)
def test_plain_headers_match_nats_py(lines: list[tuple[str, str, str]]) -> None:
    """Any header block without a status line parses exactly as nats-py parses it."""
    block = b"NATS/1.0\r\n" + b"".join(
        f"{name}{colon}{value}".encode("utf-8", "surrogatepass").replace(b"\r\n", b" ") + b"\r\n"
        for name, colon, value in lines
    )
    block += b"\r\n"
    expected = asyncio.run(NatsClient()._process_headers(block))
    assert plain_headers(block) == expected
