"""End to end: a JetStream publisher on a 3-node R3 cluster does not give up while stream leaders
are killed and quorum is lost; every message of its `--count` run is acked, and stored once."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from nats_pubsub.chaos.nodes import stream_leader
from nats_pubsub.server.cluster import EmbeddedCluster
from nats_pubsub.server.embedded import EmbeddedServer
from tests.helpers.fixtures import CliFactory
from tests.helpers.jetstream import stream_messages

pytestmark = pytest.mark.e2e

COUNT = 400


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[EmbeddedCluster]:
    """Three routed nodes with JetStream (a store dir each), stopped at the end."""
    nodes = EmbeddedCluster(3, store_dir=tmp_path / "cluster").start()
    yield nodes
    nodes.stop()


def _leader_of(cluster: EmbeddedCluster, stream: str) -> EmbeddedServer:
    """The node leading `stream` now (asked of every running node until one knows)."""
    for _ in range(100):
        for node in cluster.nodes:
            if node.pid is None:
                continue
            try:
                url = f"{node.monitor_url}/jsz?streams=true"
                with urllib.request.urlopen(url, timeout=2) as answer:
                    name = stream_leader(json.load(answer), stream)
            except OSError:
                continue
            for candidate in cluster.nodes:
                if name and candidate.name == name and candidate.pid is not None:
                    return candidate
        cluster.wait_ready(30)  # an election under way: wait for the cluster, then ask again
    raise AssertionError(f"no leader for {stream}")


def _stored(cluster: EmbeddedCluster, stream: str) -> list[dict[str, Any]]:
    """The stream's messages, once its replicas answer (an election may still be under way)."""
    import nats.js.errors

    for _ in range(20):
        try:
            return stream_messages(cluster.nodes[0].url, stream)
        except nats.js.errors.ServiceUnavailableError:
            cluster.wait_ready(30)
    raise AssertionError(f"{stream} could not be read")


def _acked(records: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    return [r for r in records if key in r and r.get("js_stream")]


@pytest.mark.parametrize(
    ("args", "stream", "acked_key"),
    [
        (("publish", "--subject", "events.elect", "--source", "elect"), "EVENTS", "js_sequence"),
        (
            ("publish", "--fast-ingest", "--subject", "events.elect", "--source", "elect"),
            "EVENTS",
            "js_batch",
        ),
        (("payments", "--source", "elect"), "PAYMENTS", "transaction_id"),
    ],
    ids=["acks", "fast-ingest", "payments"],
)
def test_count_run_is_fully_acked_through_leader_kills_and_lost_quorum(
    cluster: EmbeddedCluster,
    run_cli: CliFactory,
    args: tuple[str, ...],
    stream: str,
    acked_key: str,
) -> None:
    pub = run_cli(
        *args,
        "--jetstream",
        "--replicas",
        "3",
        "--count",
        str(COUNT),
        "--interval",
        "0.02",
        "--ack-timeout",
        "1",
        url=cluster.url,
        env={"RECONNECT_WAIT": "0.2"},
    )
    pub.logs.wait_for(lambda r: acked_key in r and bool(r.get("js_stream")), count=20, timeout=90)
    for _ in range(2):  # the stream's leader, killed: an election while messages are published
        leader = _leader_of(cluster, stream)
        leader.kill()
        seen = len(_acked(pub.logs.records, acked_key))
        pub.logs.wait_for(lambda r: acked_key in r and bool(r.get("js_stream")), seen + 20, 90)
        cluster.restart(leader)
    # Two of three nodes down: no quorum, so no ack, until they are back.
    down = [node for node in cluster.nodes if node is not _leader_of(cluster, stream)]
    for node in down:
        node.kill()
    stalled = pub.logs.wait_for("Publishing stalled", timeout=60)[0]
    assert stalled["seconds_without_ack"] >= 5
    for node in down:
        node.start()
    pub.logs.wait_for("Publishing resumed", timeout=90)
    assert pub.wait(timeout=240) == 0, pub.output()

    assert pub.logs.where("Publish failed") == []
    acked = _acked(pub.logs.records, acked_key)
    assert len(acked) == COUNT
    final = next(r for r in pub.logs.records if r.get("final") and "js_retries" in r)
    assert final["js_retries"] > 0
    ids = [m["headers"]["Nats-Msg-Id"] for m in _stored(cluster, stream)]
    assert len(ids) == len(set(ids)) == COUNT, "a message is missing or stored twice"
