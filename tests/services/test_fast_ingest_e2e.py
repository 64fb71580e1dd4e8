"""End to end: JetStream fast-ingest batch publishing (--fast-ingest) against a real server."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from nats_pubsub.server.embedded import EmbeddedServer
from tests.helpers.fixtures import CliFactory
from tests.helpers.jetstream import pause_server_until, stream_messages

pytestmark = pytest.mark.e2e


def stream_config(url: str, stream: str) -> dict[str, Any]:
    """A stream's config as the server reports it (raw API: nats-py drops unknown fields)."""
    import nats

    async def go() -> dict[str, Any]:
        nc = await nats.connect(url)
        reply = await nc.request(f"$JS.API.STREAM.INFO.{stream}", b"", timeout=10)
        await nc.close()
        config: dict[str, Any] = json.loads(reply.data)["config"]
        return config

    return asyncio.run(go())


def stored_ids(url: str, stream: str) -> list[str]:
    """The message_id of every message stored in a stream, in stream order."""
    return [json.loads(m["data"])["message_id"] for m in stream_messages(url, stream)]


def fast_publish(run_cli: CliFactory, url: str, subject: str, *more: str) -> Any:
    """`publish --jetstream --fast-ingest` to `events.<subject>`, with more flags."""
    return run_cli(
        "publish", "--jetstream", "--fast-ingest", "--subject", f"events.{subject}", *more, url=url
    )


def test_flood_is_stored_once_in_order_and_logged_per_batch(
    nats_server: EmbeddedServer, run_cli: CliFactory, subject: str
) -> None:
    """Flat out with a small flow, every message is stored once, in order, logged with its batch."""
    count = 1000
    pub = fast_publish(
        run_cli,
        nats_server.url,
        subject,
        *("--window", "16", "--count", str(count), "--interval", "0", "--source", "fiflood"),
    )
    assert pub.wait(timeout=120) == 0, pub.output()
    logged = pub.logs.where("Message published")
    assert sorted(r["sequence"] for r in logged) == list(range(1, count + 1))
    assert all(r["js_stream"] == "EVENTS" for r in logged)
    assert all(isinstance(r["js_batch"], str) and r["js_batch"] for r in logged)
    assert not any("js_sequence" in r or "duplicate" in r for r in logged)
    assert stored_ids(nats_server.url, "EVENTS") == [f"fiflood-{n}" for n in range(1, count + 1)]
    final = pub.logs.where("Publisher metrics", final=True)[0]
    assert final["js_acked"] == count
    assert final["js_failed"] == 0


def test_slow_publisher_ends_a_batch_at_each_pause(
    nats_server: EmbeddedServer, run_cli: CliFactory, subject: str
) -> None:
    """Paced slower than the idle limit, every message is still acknowledged and logged."""
    pub = fast_publish(
        run_cli, nats_server.url, subject, "--count", "5", "--interval", "0.2", "--source", "fislow"
    )
    assert pub.wait(timeout=120) == 0, pub.output()
    logged = pub.logs.where("Message published")
    assert sorted(r["sequence"] for r in logged) == [1, 2, 3, 4, 5]
    assert all(r["js_stream"] == "EVENTS" and r["js_batch"] for r in logged)
    assert stored_ids(nats_server.url, "EVENTS") == [f"fislow-{n}" for n in range(1, 6)]


def test_existing_stream_gets_allow_batched(
    nats_server: EmbeddedServer, run_cli: CliFactory, subject: str
) -> None:
    """A stream made without allow_batched has it turned on by a fast-ingest run, which says so."""
    url = nats_server.url
    args = ("publish", "--jetstream", "--subject", f"events.{subject}", "--interval", "0")
    plain = run_cli(*args, "--count", "1", url=url)
    assert plain.wait(timeout=120) == 0, plain.output()
    assert not stream_config(url, "EVENTS").get("allow_batched")
    fast = run_cli(*args, "--fast-ingest", "--count", "3", url=url)
    assert fast.wait(timeout=120) == 0, fast.output()
    updated = fast.logs.where("Stream updated", stream="EVENTS")
    assert [r["changes"] for r in updated] == [["allow_batched: false -> true"]]
    assert fast.logs.where("JetStream publishing")[0]["fast_ingest"] is True
    assert stream_config(url, "EVENTS")["allow_batched"] is True
    assert len(stream_messages(url, "EVENTS")) == 4


def test_batch_ack_timeouts_are_resent_without_duplicates(
    nats_server: EmbeddedServer, run_cli: CliFactory, subject: str
) -> None:
    """A paused server times the batch out; its unacked messages are resent, stored once each."""
    pub = fast_publish(
        run_cli, nats_server.url, subject, "--interval", "0.02", "--ack-timeout", "0.5"
    )
    pub.logs.wait_for("Message published", count=20, timeout=60)
    pause_server_until(nats_server, pub, "Batch acknowledgement timed out")
    assert pub.logs.where("Batch acknowledgement timed out")[0]["level"] == "WARNING"
    pub.logs.wait_for("Resending unacknowledged messages in a new batch", timeout=60)
    published = len(pub.logs.where("Message published"))
    pub.logs.wait_for("Message published", count=published + 20, timeout=60)
    pub.signal()
    assert pub.wait(timeout=120) == 0, pub.output()
    final = pub.logs.where("Publisher metrics", final=True)[0]
    assert final["js_retries"] > 0
    assert final["js_failed"] == 0
    ids = stored_ids(nats_server.url, "EVENTS")
    assert len(ids) == len(set(ids)), "a resent message was stored twice"
    assert len(ids) == final["js_acked"]


def test_payments_fast_ingest_records_carry_the_batch(
    nats_server: EmbeddedServer, run_cli: CliFactory
) -> None:
    """Payments published by fast ingest are all stored, and their records name the batch."""
    pub = run_cli(
        "payments",
        "--jetstream",
        "--fast-ingest",
        "--count",
        "50",
        "--interval",
        "0",
        url=nats_server.url,
    )
    assert pub.wait(timeout=120) == 0, pub.output()
    records = [r for r in pub.logs.records if "js_stream" in r]
    assert len(records) == 50
    assert all(r["js_stream"] == "PAYMENTS" and r["js_batch"] for r in records)
    assert not any("js_sequence" in r for r in records)
    assert len(stream_messages(nats_server.url, "PAYMENTS")) == 50


def test_flood_resends_built_runs_once_after_a_pause(
    nats_server: EmbeddedServer, run_cli: CliFactory, subject: str
) -> None:
    """Flat out (runs built from formats), a paused server times batches out; what they left is
    resent and, with --count, every message is acknowledged and stored exactly once."""
    count = 20_000
    pub = fast_publish(
        run_cli,
        nats_server.url,
        subject,
        *("--window", "16", "--count", str(count), "--interval", "0", "--ack-timeout", "0.5"),
        *("--source", "fipause"),
    )
    pub.logs.wait_for("Message published", count=1000, timeout=60)
    pause_server_until(nats_server, pub, "Batch acknowledgement timed out")
    assert pub.wait(timeout=180) == 0, pub.output()
    assert pub.logs.where("Resending unacknowledged messages in a new batch")
    final = pub.logs.where("Publisher metrics", final=True)[0]
    assert (final["js_acked"], final["js_failed"]) == (count, 0)
    assert final["js_retries"] > 0
    logged = [r["sequence"] for r in pub.logs.where("Message published")]
    assert sorted(logged) == list(range(1, count + 1))
    ids = stored_ids(nats_server.url, "EVENTS")
    assert sorted(ids) == sorted(f"fipause-{n}" for n in range(1, count + 1))
