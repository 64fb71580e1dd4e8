"""End to end: JetStream R3 on a 3-node cluster rides through the loss of a node, losing nothing."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

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


def _stream(url: str, name: str) -> tuple[list[str], Any]:
    """The transaction ids stored in a stream, in order, and its info."""
    import nats

    async def go() -> tuple[list[str], Any]:
        nc = await nats.connect(url)
        jsm = nc.jsm()
        info = await jsm.stream_info(name)
        ids = []
        for seq in range(info.state.first_seq, info.state.last_seq + 1):
            msg = await jsm.get_msg(name, seq)
            ids.append(json.loads(msg.data)["transaction_id"])
        await nc.close()
        return ids, info

    return asyncio.run(go())


def _replicas_current(url: str, name: str) -> bool:
    import nats

    async def go() -> bool:
        nc = await nats.connect(url)
        try:
            info = await nc.jsm().stream_info(name)
        except nats.errors.TimeoutError:
            return False  # the node is still catching up: not current yet
        finally:
            await nc.close()
        cluster = info.cluster
        return bool(
            cluster
            and cluster.leader
            and cluster.replicas
            and len(cluster.replicas) == 2
            and all(r.current for r in cluster.replicas)
        )

    return asyncio.run(go())


@pytest.mark.parametrize(
    ("flags", "acked_key"),
    [((), "js_sequence"), (("--fast-ingest",), "js_batch")],
    ids=["acks", "fast-ingest"],
)
def test_r3_stream_keeps_every_acknowledged_message_through_node_loss(
    cluster: EmbeddedCluster, run_cli: CliFactory, flags: tuple[str, ...], acked_key: str
) -> None:
    """Kill the publisher's node mid-stream: each acked message is stored once and delivered
    (acked one by one, or by fast-ingest batches)."""
    env = {"RECONNECT_WAIT": "0.2"}
    pub = run_cli(
        "payments",
        "--jetstream",
        *flags,
        "--replicas",
        "3",
        "--interval",
        "0.01",
        "--ack-timeout",
        "2",
        url=cluster.url,
        env=env,
    )
    [connected] = pub.logs.wait_for("Connected to NATS", timeout=60)
    pub.logs.wait_for(lambda r: acked_key in r, count=50, timeout=60)
    doomed = cluster.node_for(connected["url"])
    survivor = next(node for node in cluster.nodes if node is not doomed)
    # The durable consumer exists before the failure and keeps consuming through it.
    mon = run_cli("monitor", "--jetstream", url=survivor.url, env=env)
    mon.logs.wait_for("Subscribed", timeout=90)
    doomed.kill()
    [moved] = pub.logs.wait_for("Reconnected to NATS", timeout=60)
    assert moved["url"] != connected["url"]
    acked_before = len([r for r in pub.logs.records if acked_key in r])
    pub.logs.wait_for(lambda r: acked_key in r, count=acked_before + 50, timeout=90)
    pub.signal()
    assert pub.wait(timeout=60) == 0, pub.output()

    acked = [r["transaction_id"] for r in pub.logs.records if acked_key in r]
    stored, info = _stream(survivor.url, "PAYMENTS")
    assert info.config.num_replicas == 3
    assert len(stored) == len(set(stored)), "a message is stored twice"
    assert set(acked) <= set(stored), "an acknowledged message is missing"

    mon.logs.wait_for("Message captured", count=len(stored), timeout=120)
    mon.signal()
    assert mon.wait(timeout=60) == 0, mon.output()
    delivered = [r["transaction_id"] for r in mon.logs.where("Message captured")]
    assert sorted(delivered) == sorted(stored), "the consumer missed or repeated a message"

    doomed.start()  # on its old ports; catching up is what the loop below waits for
    deadline = time.monotonic() + 90
    while not _replicas_current(doomed.url, "PAYMENTS"):
        assert time.monotonic() < deadline, "the restarted node did not catch up"
        time.sleep(0.2)
