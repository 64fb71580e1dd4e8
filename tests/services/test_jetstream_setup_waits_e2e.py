"""End to end: a service whose JetStream setup meets a cluster without quorum keeps retrying
(it used to give up after six tries, which a chaos soak caught: a durable subscriber restarted
during back-to-back node failures exited 1), binds once quorum returns, and still stops on
SIGTERM or at its --timeout."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from nats_pubsub.server.cluster import EmbeddedCluster
from nats_pubsub.server.embedded import EmbeddedServer
from tests.helpers.fixtures import CliFactory

pytestmark = pytest.mark.e2e

OLD_LIMIT = 6  # tries before this fix; the service must go past them


@pytest.fixture
def no_quorum(tmp_path: Path) -> Iterator[tuple[EmbeddedCluster, list[EmbeddedServer]]]:
    """Three routed nodes, two of them then killed: the first runs without a JetStream quorum.
    Yields the cluster and the killed nodes; every node is stopped at the end."""
    cluster = EmbeddedCluster(3, store_dir=tmp_path / "cluster").start()
    down = cluster.nodes[1:]
    for node in down:
        node.kill()
    yield cluster, down
    cluster.stop()


def _retries(records: list[dict[str, object]]) -> list[dict[str, object]]:
    return [r for r in records if r.get("message") == "JetStream busy, retrying"]


def test_subscriber_waits_for_quorum_then_consumes(
    no_quorum: tuple[EmbeddedCluster, list[EmbeddedServer]], run_cli: CliFactory
) -> None:
    cluster, down = no_quorum
    sub = run_cli(
        "subscribe", "--jetstream", "--replicas", "3", "--subject", "events.setup.>",
        "--count", "5", url=cluster.nodes[0].url,
    )  # fmt: skip
    sub.logs.wait_for(
        lambda r: r.get("message") == "JetStream busy, retrying" and r["attempt"] >= OLD_LIMIT,
        timeout=180,
    )
    assert sub.process.poll() is None, sub.output()  # still running, still trying
    for node in down:
        node.start()
    cluster.wait_ready(60)
    sub.logs.wait_for("Subscribed", timeout=120)
    pub = run_cli(
        "publish", "--jetstream", "--replicas", "3", "--subject", "events.setup.x",
        "--count", "5", "--interval", "0", url=cluster.url,
    )  # fmt: skip
    assert pub.wait(timeout=120) == 0, pub.output()
    assert sub.wait(timeout=120) == 0, sub.output()
    assert len(sub.logs.where("Message received")) == 5
    assert sub.logs.where("Could not subscribe") == []
    waits = [r["retry_in_seconds"] for r in _retries(sub.logs.records)]
    assert waits[:4] == [0.5, 1.0, 2.0, 4.0]
    assert max(waits) == 5.0


def test_timeout_and_sigterm_end_the_wait(
    no_quorum: tuple[EmbeddedCluster, list[EmbeddedServer]], run_cli: CliFactory
) -> None:
    cluster, _ = no_quorum
    url = cluster.nodes[0].url
    timed = run_cli(
        "subscribe", "--jetstream", "--replicas", "3", "--subject", "events.setup.>",
        "--timeout", "8", url=url,
    )  # fmt: skip
    publisher = run_cli(
        "publish", "--jetstream", "--replicas", "3", "--subject", "events.setup.x", url=url
    )
    assert timed.wait(timeout=60) == 1, timed.output()
    assert len(timed.logs.where("Could not subscribe")) == 1
    retries = _retries(timed.logs.records)  # a JetStream request waits up to 5 s for its answer
    assert retries, timed.output()
    assert timed.logs.where("Subscribed") == []

    publisher.logs.wait_for("JetStream busy, retrying", timeout=60)
    publisher.signal()
    assert publisher.wait(timeout=30) == 0, publisher.output()
    assert publisher.logs.where("Message published") == []
