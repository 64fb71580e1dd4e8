"""End to end: durable publishing, replay and dead letters with JetStream on a real server."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from nats_pubsub.server.embedded import EmbeddedServer
from tests.helpers.fixtures import CliFactory, publish_raw
from tests.helpers.jetstream import pause_server_until, stream_messages

pytestmark = pytest.mark.e2e


def captured_ids(proc: Any) -> list[tuple[int, str]]:
    return [(r["js_sequence"], r["transaction_id"]) for r in proc.logs.where("Message captured")]


def test_history_replayed_once_then_resumed(
    nats_server: EmbeddedServer, run_cli: CliFactory
) -> None:
    """500 payments while no consumer runs: a late monitor gets all in order, then only new ones."""
    url = nats_server.url
    pub = run_cli("payments", "--jetstream", "--count", "500", "--interval", "0", url=url)
    assert pub.wait() == 0, pub.output()
    first = run_cli(
        "monitor", "--jetstream", "--replay", "all", "--count", "500", "--timeout", "60", url=url
    )
    assert first.wait() == 0, first.output()
    seen = captured_ids(first)
    assert [seq for seq, _ in seen] == list(range(1, 501))
    assert len({txn for _, txn in seen}) == 500

    again = run_cli("monitor", "--jetstream", "--timeout", "3", url=url)
    assert again.wait() == 0, again.output()
    assert captured_ids(again) == []
    final = again.logs.where("Monitor metrics", final=True)[0]
    assert final["js_redelivered"] == 0

    more = run_cli("payments", "--jetstream", "--count", "10", "--interval", "0", url=url)
    assert more.wait() == 0, more.output()
    last = run_cli("monitor", "--jetstream", "--count", "10", "--timeout", "60", url=url)
    assert last.wait() == 0, last.output()
    assert [seq for seq, _ in captured_ids(last)] == list(range(501, 511))


def test_restarted_publisher_is_not_deduplicated(
    nats_server: EmbeddedServer, run_cli: CliFactory, subject: str
) -> None:
    """A second run numbering from 1 again is stored in full, not dropped as duplicates."""
    for _ in range(2):
        pub = run_cli(
            "publish",
            "--jetstream",
            "--subject",
            f"events.{subject}",
            "--count",
            "5",
            "--interval",
            "0",
            url=nats_server.url,
        )
        assert pub.wait() == 0, pub.output()
        acks = pub.logs.where("Message published")
        assert [r["duplicate"] for r in acks] == [False] * 5
        assert all(r["js_stream"] == "EVENTS" for r in acks)
    assert len(stream_messages(nats_server.url, "EVENTS")) == 10


def test_ack_timeouts_are_retried_without_duplicates(
    nats_server: EmbeddedServer, run_cli: CliFactory, subject: str
) -> None:
    """Acks delayed past the timeout are retried with the same id; the stream keeps one copy."""
    pub = run_cli(
        "publish",
        "--jetstream",
        "--subject",
        f"events.{subject}",
        "--interval",
        "0.02",
        "--ack-timeout",
        "0.5",
        url=nats_server.url,
    )
    pub.logs.wait_for("Message published", count=20)
    pause_server_until(nats_server, pub, "Acknowledgement timed out, retrying")
    published = len(pub.logs.where("Message published"))
    pub.logs.wait_for("Message published", count=published + 20, timeout=60)
    pub.signal()
    assert pub.wait() == 0, pub.output()
    final = pub.logs.where("Publisher metrics", final=True)[0]
    assert final["js_retries"] > 0
    assert final["js_failed"] == 0
    stored = stream_messages(nats_server.url, "EVENTS")
    ids = [json.loads(m["data"])["message_id"] for m in stored]
    assert len(ids) == len(set(ids)), "a retry was stored twice"
    assert len(stored) == final["js_acked"]


def test_invalid_message_dead_lettered_after_max_deliver(
    nats_server: EmbeddedServer, run_cli: CliFactory, subject: str
) -> None:
    """With --on-invalid retry, a message that keeps failing lands on dlq.EVENTS with the reason."""
    sub = run_cli(
        "subscribe",
        "--jetstream",
        "--subject",
        f"events.{subject}",
        "--durable",
        f"d{subject[-8:]}",
        "--on-invalid",
        "retry",
        "--max-deliver",
        "3",
        url=nats_server.url,
    )
    sub.logs.wait_for("Subscribed")
    publish_raw(nats_server.url, f"events.{subject}", [b"not json"])
    dead = sub.logs.wait_for("Message dead-lettered", timeout=60)[0]
    assert dead["js_delivered"] == 3
    assert dead["dlq_subject"] == "dlq.EVENTS"
    assert len(sub.logs.where("Invalid message")) == 3
    sub.signal()
    assert sub.wait() == 0, sub.output()
    letters = stream_messages(nats_server.url, "DLQ")
    assert len(letters) == 1
    assert letters[0]["data"] == b"not json"
    assert letters[0]["headers"]["Nats-Pubsub-Reason"].startswith("invalid message: not_json")
    assert letters[0]["headers"]["Nats-Pubsub-Subject"] == f"events.{subject}"


def test_invalid_message_dead_lettered_at_once_by_default(
    nats_server: EmbeddedServer, run_cli: CliFactory, subject: str
) -> None:
    """By default an invalid message cannot succeed, so it is dead-lettered on first delivery."""
    sub = run_cli("subscribe", "--jetstream", "--subject", f"events.{subject}", url=nats_server.url)
    sub.logs.wait_for("Subscribed")
    publish_raw(nats_server.url, f"events.{subject}", [b"[1]"])
    dead = sub.logs.wait_for("Message dead-lettered", timeout=60)[0]
    assert dead["js_delivered"] == 1
    sub.signal()
    assert sub.wait() == 0, sub.output()
    assert sub.logs.where("Subscriber metrics", final=True)[0]["js_dead_lettered"] == 1


def test_new_start_on_existing_durable_recreates_it(
    nats_server: EmbeddedServer, run_cli: CliFactory, subject: str
) -> None:
    """Asking an existing durable for another start recreates it and says so."""
    url = nats_server.url
    pub = run_cli(
        "publish",
        "--jetstream",
        "--subject",
        f"events.{subject}",
        "--count",
        "10",
        "--interval",
        "0",
        url=url,
    )
    assert pub.wait() == 0
    args = ("subscribe", "--jetstream", "--subject", f"events.{subject}", "--durable", "again")
    first = run_cli(*args, "--count", "10", "--timeout", "60", url=url)
    assert first.wait() == 0, first.output()
    second = run_cli(*args, "--replay", "seq:4", "--count", "7", "--timeout", "60", url=url)
    assert second.wait() == 0, second.output()
    assert second.logs.where("Consumer recreated")
    assert [r["js_sequence"] for r in second.logs.where("Message received")] == list(range(4, 11))


def test_overlapping_stream_is_named(nats_server: EmbeddedServer, run_cli: CliFactory) -> None:
    """If another stream owns the subjects, the error names it and what to do."""
    import nats
    from nats.js.api import StreamConfig

    async def make_other() -> None:
        nc = await nats.connect(nats_server.url)
        await nc.jsm().add_stream(StreamConfig(name="CARDS", subjects=["payments.credit_card.*"]))
        await nc.close()

    asyncio.run(make_other())
    pub = run_cli("payments", "--jetstream", "--count", "1", url=nats_server.url)
    assert pub.wait() == 1
    error = pub.logs.where("JetStream setup failed")[0]["error"]
    assert "CARDS (payments.credit_card.*)" in error
    assert "STREAM_NAME" in error


def test_flood_publish_fills_the_window_and_stores_each_once(
    nats_server: EmbeddedServer, run_cli: CliFactory, subject: str
) -> None:
    """Flat out with a small ack window, every message is stored once, in order, logged once."""
    count = 1000
    pub = run_cli(
        "publish",
        "--jetstream",
        "--subject",
        f"events.{subject}",
        "--window",
        "16",
        "--count",
        str(count),
        "--interval",
        "0",
        "--source",
        "jsflood",
        url=nats_server.url,
    )
    assert pub.wait() == 0, pub.output()
    logged = pub.logs.where("Message published")
    assert sorted(r["sequence"] for r in logged) == list(range(1, count + 1))
    assert sorted(r["js_sequence"] for r in logged) == list(range(1, count + 1))
    assert not any(r["duplicate"] for r in logged)
    stored = stream_messages(nats_server.url, "EVENTS")
    ids = [json.loads(m["data"])["message_id"] for m in stored]
    assert ids == [f"jsflood-{n}" for n in range(1, count + 1)]
