"""End to end: what a JetStream consumer and publisher promise, checked on the server's own state.

A durable consumer acks every message it processed (the server's ack floor and pending acks say
so, not only the consumer's records); publishes sent while reconnecting, and their retries, keep
their `Nats-Msg-Id` (the stored headers say so); a consumer stops without waiting out the drain
timeout.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from typing import Any

import pytest

from nats_pubsub.server.embedded import EmbeddedServer
from tests.helpers.fixtures import CliFactory, ServerFactory, free_port
from tests.helpers.jetstream import stream_messages
from tests.helpers.relay import RecordingRelay

pytestmark = pytest.mark.e2e


def _consumer_state(url: str, stream: str, durable: str) -> dict[str, Any]:
    """The server's view of a durable: delivered, ack floor, pending acks and messages."""
    import nats

    async def go() -> dict[str, Any]:
        nc = await nats.connect(url)
        try:
            info = await nc.jsm().consumer_info(stream, durable)
        finally:
            await nc.close()
        return {
            "delivered": info.delivered.stream_seq,
            "ack_floor": info.ack_floor.stream_seq,
            "ack_pending": info.num_ack_pending,
            "pending": info.num_pending,
        }

    return asyncio.run(go())


def test_durable_consumer_acks_every_message_it_processed(
    nats_server: EmbeddedServer, run_cli: CliFactory, subject: str
) -> None:
    """The server's ack floor reaches the last message and nothing awaits an ack (a consumer
    that never acks would leave all of them pending until --ack-wait runs out: 30 s)."""
    url, durable = nats_server.url, f"acks{subject[-8:]}"
    pub = run_cli(
        "publish", "--jetstream", "--subject", f"events.{subject}", "--count", "40",
        "--interval", "0", url=url,
    )  # fmt: skip
    assert pub.wait() == 0, pub.output()
    sub = run_cli(
        "subscribe", "--jetstream", "--subject", f"events.{subject}", "--durable", durable,
        "--count", "40", "--timeout", "60", url=url,
    )  # fmt: skip
    assert sub.wait() == 0, sub.output()
    received = sub.logs.where("Message received")
    assert sorted(r["js_sequence"] for r in received) == list(range(1, 41))
    assert all(r["latency_ms"] >= 0 for r in received), received[:3]
    deadline = time.monotonic() + 10  # acks are sent before the drain; the server applies them
    state = _consumer_state(url, "EVENTS", durable)
    while state["ack_pending"] and time.monotonic() < deadline:
        state = _consumer_state(url, "EVENTS", durable)
    assert state == {"delivered": 40, "ack_floor": 40, "ack_pending": 0, "pending": 0}


def test_publishes_while_reconnecting_and_their_retries_keep_their_msg_id(
    start_server: ServerFactory, run_cli: CliFactory, subject: str
) -> None:
    """Sent while the server is away (nats-py's own publish, buffered until reconnected) and
    retried after the ack timeout on that path: every stored copy carries its Nats-Msg-Id,
    and no message is stored twice."""
    server = start_server(port=free_port())
    pub = run_cli(
        "publish", "--jetstream", "--subject", f"events.{subject}", "--source", "recon",
        "--interval", "0.05", "--ack-timeout", "0.5", url=server.url,
        env={"RECONNECT_WAIT": "0.5"},
    )  # fmt: skip
    pub.logs.wait_for("Message published", count=10)
    server.stop()  # the same store and port come back below
    pub.logs.wait_for("Disconnected from NATS")
    pub.logs.wait_for("Acknowledgement timed out, retrying", timeout=30)
    published = len(pub.logs.where("Message published"))
    server.start()
    pub.logs.wait_for("Reconnected to NATS", timeout=60)
    pub.logs.wait_for("Message published", count=published + 20, timeout=60)
    pub.signal()
    assert pub.wait() == 0, pub.output()

    [run] = pub.logs.where("JetStream publishing")
    stored = stream_messages(server.url, "EVENTS")
    ids = [json.loads(m["data"])["message_id"] for m in stored]
    assert len(ids) == len(set(ids)), "a message was stored twice"
    for message, message_id in zip(stored, ids, strict=True):
        headers = message["headers"] or {}
        assert headers.get("Nats-Msg-Id") == f"{message_id}@{run['run_id']}", message
    acked = {r["message_id"] for r in pub.logs.where("Message published")}
    assert acked <= set(ids)
    assert pub.logs.where("Publisher metrics", final=True)[0]["js_retries"] > 0


@pytest.mark.parametrize("command", ["subscribe", "monitor"])
def test_jetstream_consumer_stops_without_waiting_out_the_drain(
    nats_server: EmbeddedServer, run_cli: CliFactory, subject: str, command: str
) -> None:
    """SIGTERM: the fetch loop ends and the connection drains cleanly (no `draining connection
    timed out` error after DRAIN_TIMEOUT, as when the pull subscription was drained)."""
    consumer = run_cli(
        command, "--jetstream", "--subject", f"events.{subject}", url=nats_server.url,
        env={"DRAIN_TIMEOUT": "3"},
    )  # fmt: skip
    consumer.logs.wait_for("Subscribed")
    publish = run_cli(
        "publish", "--jetstream", "--subject", f"events.{subject}", "--count", "5",
        "--interval", "0", url=nats_server.url,
    )  # fmt: skip
    assert publish.wait() == 0, publish.output()
    processed = "Message received" if command == "subscribe" else "Message captured"
    consumer.logs.wait_for(processed, count=5)
    consumer.signal()
    assert consumer.wait(timeout=60) == 0, consumer.output()
    assert consumer.logs.where("NATS error") == [], consumer.output()
    assert consumer.logs.where("Drain did not complete") == [], consumer.output()


def test_subscribers_sharing_a_durable_report_no_false_loss(
    nats_server: EmbeddedServer, run_cli: CliFactory, subject: str
) -> None:
    """Two subscribers bound to one durable each get part of a source's sequence: together they
    process every message once, and neither reports the other's share as lost or reordered."""
    url, durable = nats_server.url, f"shared{subject[-8:]}"
    args = ("subscribe", "--jetstream", "--subject", f"events.{subject}", "--durable", durable)
    first = run_cli(*args, "--source", "share-a", url=url)
    first.logs.wait_for("Subscribed")
    second = run_cli(*args, "--source", "share-b", url=url)
    second.logs.wait_for("Subscribed")
    pub = run_cli(
        "publish", "--jetstream", "--subject", f"events.{subject}", "--count", "300",
        "--interval", "0.002", "--source", "shared-src", url=url,
    )  # fmt: skip
    assert pub.wait() == 0, pub.output()
    both = (first, second)

    def processed() -> list[int]:
        return [r["js_sequence"] for p in both for r in p.logs.where("Message received")]

    deadline = time.monotonic() + 60  # the two logs together: polled until they hold all 300
    while len(processed()) < 300:
        assert time.monotonic() < deadline, processed()
        time.sleep(0.1)
    for consumer in both:
        consumer.signal()
        assert consumer.wait() == 0, consumer.output()
    assert sorted(processed()) == list(range(1, 301))
    assert all(p.logs.where("Message received") for p in both), "one member got nothing"
    for consumer in both:
        assert consumer.logs.where("Messages lost") == [], consumer.output()
        assert consumer.logs.where("Messages out of order") == []
        final = consumer.logs.where("Subscriber metrics", final=True)[0]
        assert (final["lost"], final["out_of_order"], final["duplicates"]) == (0, 0, 0)


# An ack as the client writes it: an empty payload (or +ACK) to the delivery's $JS.ACK subject.
_ACKS = re.compile(rb"PUB \$JS\.ACK\.[^ \r\n]+ +(?:0\r\n\r\n|4\r\n\+ACK\r\n)")


def test_a_redelivery_of_a_processed_message_is_reported_not_counted_again(
    nats_server: EmbeddedServer, run_cli: CliFactory, subject: str
) -> None:
    """Acks lost on the way (a relay drops them): JetStream delivers the messages again to the
    same subscriber, which says `Duplicate delivery` and processes and counts each once."""
    url = nats_server.url
    pub = run_cli(
        "publish", "--jetstream", "--subject", f"events.{subject}", "--count", "5",
        "--interval", "0", url=url,
    )  # fmt: skip
    assert pub.wait() == 0, pub.output()
    relay = RecordingRelay(nats_server.port)
    relay.drop = _ACKS
    try:
        sub = run_cli(
            "subscribe", "--jetstream", "--subject", f"events.{subject}", "--ack-wait", "1",
            url=relay.url,
        )  # fmt: skip
        dupes = sub.logs.wait_for("Duplicate delivery", count=5, timeout=60)
        relay.drop = None  # the next redeliveries' acks get through
        assert {r["js_sequence"] for r in dupes} == {1, 2, 3, 4, 5}
        assert all(r["duplicate"] is True and r["js_delivered"] > 1 for r in dupes)
        sub.signal()
        assert sub.wait() == 0, sub.output()
    finally:
        relay.close()
    received = sub.logs.where("Message received")
    assert sorted(r["js_sequence"] for r in received) == [1, 2, 3, 4, 5]
    final = sub.logs.where("Subscriber metrics", final=True)[0]
    assert final["valid_messages"] == 5
    assert final["js_duplicates"] >= 5
