"""The report: counts, stalls, quorum resumes and the verdict, as text and JSON."""

from __future__ import annotations

import json

from nats_pubsub.chaos.checks import Check, DuplicateCount
from nats_pubsub.chaos.facts import Ack, PublisherRun
from nats_pubsub.chaos.report import Results, build_report, render_text
from nats_pubsub.chaos.schedule import Fault, FaultKind, Injected
from nats_pubsub.chaos.timing import QuorumWindow

START = 1000.0


def _results(checks: tuple[Check, ...]) -> Results:
    acks = tuple(Ack(f"p-{n}@r", START + t) for n, t in enumerate([1.0, 2.0, 9.0, 9.5], 1))
    run = PublisherRun("js", "r", 4, acks, 0, (), True, 0, 3)
    killed = PublisherRun("js", "s", 4, (), 0, (), False, -9, 0)
    quorum_fault = Fault(3.0, FaultKind.LOSE_QUORUM, "n1+n2", 4.0)
    service_fault = Fault(30.0, FaultKind.KILL_SERVICE, "js", 1.0)  # long after the quorum loss
    return Results(
        seed=3,
        duration=60.0,
        started=START,
        injected=(
            Injected(quorum_fault, START + 3.0, START + 7.5, ("n1", "n2")),
            Injected(service_fault, START + 30.0, START + 31.0, ()),
        ),
        runs=(run, killed),
        stored={"EVENTS": 4},
        processed={"EVENTS": 4},
        duplicates=DuplicateCount(2, 0, ()),
        core={"sent": 10, "received": 9, "reported_lost": 1},
        progress={"js": [a.at for a in acks], "sub": [START + 9.2]},
        publishers=("js",),
        quorum=(QuorumWindow(START + 3.0, START + 7.5),),
        unexpected_exits=(),
        checks=checks,
    )


def test_report_of_a_run_that_held() -> None:
    report = build_report(_results((Check("stored once", True, "4 messages"),)))
    data = json.loads(report.as_json())
    assert report.ok
    assert data["ok"] is True
    assert data["command"] == "nats-pubsub chaos --duration 60 --seed 3"
    assert data["faults"] == {"total": 2, "by_kind": {"kill_service": 1, "lose_quorum": 1}}
    assert data["publishers"]["js"] == {
        "runs": 2,
        "killed_runs": 1,
        "requested": 4,
        "acked": 4,
        "failed": 0,
        "retries": 3,
    }
    assert data["longest_without_ack_seconds"] == {"any_publisher": 7.0, "js": 7.0}
    assert data["quorum_losses"] == [
        {"lost_at": 3.0, "seconds": 4.5, "acks_resumed_after": {"js": 1.5}}
    ]
    assert data["acks_resumed_within_target"] is True
    first = data["faults_injected"][0]
    assert first["recovery"] == {"js": 6.0, "sub": 6.2}
    assert first["after_heal"] == {"js": 1.5, "sub": 1.7}
    assert "after_heal" not in data["faults_injected"][1]  # a service fault: no node healed
    text = render_text(report)
    assert text.endswith("PASSED\n")
    assert "  PASS stored once: 4 messages" in text
    assert "core NATS: sent 10, received 9, reported lost 1" in text


def test_one_failed_check_fails_the_report() -> None:
    checks = (Check("stored once", True, ""), Check("acked messages stored", False, "1 missing"))
    report = build_report(_results(checks))
    assert not report.ok
    assert render_text(report).endswith("  FAIL acked messages stored: 1 missing\nFAILED\n")


def test_a_publisher_killed_around_a_loss_of_quorum_is_left_out_of_the_resume() -> None:
    """It was starting again, not waiting for quorum: its time says nothing of the cluster."""
    results = _results((Check("stored once", True, ""),))
    killed = Injected(Fault(6.0, FaultKind.KILL_SERVICE, "js", 1.0), START + 6.0, START + 7.0, ())
    report = build_report(results._replace(injected=(*results.injected, killed)))
    assert report.data["quorum_losses"][0]["acks_resumed_after"] == {}
    assert report.data["slowest_resume_seconds"] is None
