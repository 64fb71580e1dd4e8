"""End to end: every peer's event shape, published from Python, is received by `subscribe` (core
and JetStream) with a true latency, and captured by `monitor` at INFO."""

from __future__ import annotations

import time

import msgspec
import pytest

from nats_pubsub.server.embedded import EmbeddedServer
from tests.helpers.event_shapes import assert_latency_true, peer_shapes
from tests.helpers.fixtures import CliFactory, publish_raw

pytestmark = pytest.mark.e2e


def test_every_peer_shape_is_received_and_captured(
    nats_server: EmbeddedServer, run_cli: CliFactory
) -> None:
    """Upstream C#/Python shapes, each language's timestamp form, the seed's shape and ours."""
    url = nats_server.url
    subject = "events.test"
    before = time.time_ns()
    shapes = peer_shapes(before)
    core = run_cli("subscribe", "--subject", subject, url=url)
    durable = run_cli("subscribe", "--subject", subject, "--jetstream", url=url)
    monitor = run_cli("monitor", "--subject", subject, url=url)
    for proc in (core, durable, monitor):
        proc.logs.wait_for("Subscribed")
    publish_raw(url, subject, [msgspec.json.encode(message) for message in shapes.values()])

    for proc in (core, durable):
        received = proc.logs.wait_for("Message received", count=len(shapes))
        by_id = {record["message_id"]: record for record in received}
        assert sorted(by_id) == sorted(m["message_id"] for m in shapes.values()), proc.output()
        for message in shapes.values():
            assert_latency_true(by_id[message["message_id"]], message["timestamp"], before)
        assert not proc.logs.where("Invalid message"), proc.output()
    captured = monitor.logs.wait_for("Message captured", count=len(shapes))
    assert {r["level"] for r in captured} == {"INFO"}
    assert sorted(r["message_id"] for r in captured) == sorted(by_id)

    for proc in (core, durable, monitor):
        proc.signal()
        assert proc.wait() == 0, proc.output()
    assert durable.logs.where("Subscriber metrics", final=True)[0]["js_dead_lettered"] == 0
