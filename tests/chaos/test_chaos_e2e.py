"""End to end: a 60-second soak with a fixed seed holds every guarantee (CI runs it each time).

The soak's own processes: a 3-node cluster, the publishers, subscribers, monitor and core pair
as `nats-pubsub` processes, and the faults of seed 3's schedule (every kind but partitions).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers.fixtures import CliFactory

pytestmark = pytest.mark.e2e

SEED = 3  # its first 60 seconds hold every kind of fault but partitions


@pytest.mark.timeout(600)
def test_sixty_second_soak_loses_nothing_acked(run_cli: CliFactory, tmp_path: Path) -> None:
    soak = run_cli(
        "chaos",
        "--duration",
        "60",
        "--seed",
        str(SEED),
        "--json",
        "--work-dir",
        str(tmp_path / "soak"),
        url="nats://127.0.0.1:1",  # unused: the soak runs its own cluster
    )
    code = soak.wait(timeout=540)
    report = json.loads("\n".join(soak.logs.raw))
    failed = [check for check in report["checks"] if not check["ok"]]
    assert failed == [], soak.output()
    assert code == 0
    assert report["ok"] is True
    assert report["seed"] == SEED
    kinds = set(report["faults"]["by_kind"])
    assert kinds == {
        "kill_node",
        "kill_meta_leader",
        "kill_stream_leader",
        "lose_quorum",
        "freeze_node",
        "kill_service",
    }
    messages = report["messages"]
    assert messages["publish_failed"] == 0
    assert messages["unreported_duplicates"] == 0
    assert messages["processed"] == messages["stored"]
    assert sum(messages["stored"].values()) >= messages["acked"] > 1000
    core = messages["core"]
    assert core["received"] + core["reported_lost"] == core["sent"] > 1000
    for name, counts in report["publishers"].items():
        assert counts["acked"] >= counts["requested"] > 0, name
    assert report["unexpected_exits"] == []
