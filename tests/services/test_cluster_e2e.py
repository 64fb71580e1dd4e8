"""End to end: a 3-node cluster on loopback; a publisher rides through the loss of its node."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from nats_pubsub.server.cluster import EmbeddedCluster
from tests.helpers.fixtures import CliFactory

pytestmark = pytest.mark.e2e


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[EmbeddedCluster]:
    """Three routed nodes with JetStream (a store dir each), stopped at the end."""
    nodes = EmbeddedCluster(3, store_dir=tmp_path / "cluster").start()
    yield nodes
    nodes.stop()


def test_cluster_has_routes_and_a_jetstream_leader(cluster: EmbeddedCluster) -> None:
    """Every node routes to the two others and JetStream has elected a meta leader."""
    assert [cluster.routes(node) for node in cluster.nodes] == [2, 2, 2]
    assert cluster.leader() in {node.name for node in cluster.nodes}


def test_server_command_runs_a_cluster_until_sigterm(run_cli: CliFactory, tmp_path: Path) -> None:
    """`server --cluster 3` reports a ready cluster with three URLs, then stops cleanly; nodes
    dialling routes to peers not yet up, and waiting for them, are no ERROR or WARNING."""
    server = run_cli(
        "server",
        "--cluster",
        "3",
        "--port",
        "-1",
        "--http-port",
        "-1",
        "--store-dir",
        str(tmp_path / "data"),
        url="nats://127.0.0.1:1",
    )
    [ready] = server.logs.wait_for("NATS cluster ready", timeout=60)
    assert len(ready["nodes"]) == 3
    assert ready["jetstream_leader"]
    server.signal()
    assert server.wait() == 0, server.output()
    server.logs.wait_for("NATS cluster stopped")
    assert sorted(p.name for p in (tmp_path / "data").iterdir()) == ["n1", "n2", "n3"]
    alarming = [r for r in server.logs.records if r["level"] in ("WARNING", "ERROR")]
    assert alarming == [], alarming


def test_publisher_fails_over_when_its_node_dies(
    cluster: EmbeddedCluster, run_cli: CliFactory, subject: str
) -> None:
    """Kill the publisher's node: it reconnects elsewhere, keeps publishing, loss is counted."""
    env = {"RECONNECT_WAIT": "0.2"}
    pub = run_cli("publish", "--subject", subject, "--interval", "0.01", url=cluster.url, env=env)
    [connected] = pub.logs.wait_for("Connected to NATS")
    doomed = cluster.node_for(connected["url"])
    other = next(node for node in cluster.nodes if node is not doomed)
    sub = run_cli("subscribe", "--subject", subject, url=other.url, env=env)
    sub.logs.wait_for("Subscribed")
    sub.logs.wait_for("Message received", count=30)

    doomed.kill()
    [moved] = pub.logs.wait_for("Reconnected to NATS", timeout=60)
    assert moved["url"] != connected["url"]
    before = max(r["sequence"] for r in sub.logs.where("Message received"))
    sub.logs.wait_for(
        lambda r: r.get("message") == "Message received" and r["sequence"] > before + 30,
        timeout=60,
    )

    cluster.restart(doomed)
    assert cluster.routes(doomed) == 2

    pub.signal()
    assert pub.wait() == 0, pub.output()
    last = max(r["sequence"] for r in pub.logs.where("Message published"))
    sub.logs.wait_for(
        lambda r: r.get("message") == "Message received" and r["sequence"] == last, timeout=60
    )
    sub.signal()
    assert sub.wait() == 0, sub.output()
    first = min(r["sequence"] for r in sub.logs.where("Message received"))
    final = sub.logs.where("Subscriber metrics", final=True)[0]
    distinct = final["valid_messages"] - final["duplicates"]
    # Core NATS is at-most-once: whatever was in flight to the dead node is gone, and counted.
    assert distinct + final["lost"] == last - first + 1
    print(f"core failover: sent {last - first + 1}, lost {final['lost']}")
