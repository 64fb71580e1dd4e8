"""A chaos run's report: the faults, the message counts, the stalls and recoveries, and which
guarantees held; as text for a terminal and as JSON (pure)."""

from __future__ import annotations

import json
import statistics
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from typing import Any, Final, NamedTuple

from nats_pubsub.chaos.checks import Check, DuplicateCount
from nats_pubsub.chaos.facts import PublisherRun
from nats_pubsub.chaos.schedule import FaultKind, Injected
from nats_pubsub.chaos.timing import QuorumWindow, longest_gap, time_to_progress

__all__ = ["RESUME_TARGET", "Report", "Results", "build_report", "render_text"]

RESUME_TARGET: Final = 5.0  # seconds: acked publishes resume this soon after quorum returns
_KILL_MARGIN: Final = 10.0  # seconds before a loss of quorum a killed publisher may still start


class Results(NamedTuple):
    """Everything a report is made from, read back at the end of a run."""

    seed: int
    duration: float
    started: float  # epoch seconds
    injected: tuple[Injected, ...]
    runs: tuple[PublisherRun, ...]
    stored: Mapping[str, int]  # stream -> messages stored
    processed: Mapping[str, int]  # stream -> distinct messages processed
    duplicates: DuplicateCount
    core: Mapping[str, int]  # sent, received, reported_lost
    progress: Mapping[str, Sequence[float]]  # service -> sorted times it made progress
    publishers: tuple[str, ...]  # the JetStream publishers among `progress`
    quorum: tuple[QuorumWindow, ...]
    unexpected_exits: tuple[str, ...]
    checks: tuple[Check, ...]


class Report(NamedTuple):
    """The report as data (`as_json`) and its verdict."""

    ok: bool
    data: dict[str, Any]

    def as_json(self) -> str:
        """The report as one JSON document."""
        return json.dumps(self.data, indent=2, sort_keys=False)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def _publisher_counts(runs: Sequence[PublisherRun]) -> dict[str, dict[str, int]]:
    counts: defaultdict[str, Counter[str]] = defaultdict(Counter)
    for run in runs:
        entry = counts[run.service]
        entry["runs"] += 1
        entry["killed_runs"] += not run.finished
        entry["requested"] += (run.requested or 0) if run.finished else 0
        entry["acked"] += len(run.acks)
        entry["failed"] += run.failed
        entry["retries"] += run.retries
    return {service: dict(entry) for service, entry in sorted(counts.items())}


def _recoveries(results: Results) -> list[dict[str, Any]]:
    """For each fault: seconds until each service made progress after it began (and after it
    was healed, for faults that are)."""
    out = []
    for item in results.injected:
        fault = item.fault
        entry: dict[str, Any] = {
            "at": round(item.started - results.started, 2),
            "kind": str(fault.kind),
            "target": fault.target,
            "nodes": list(item.nodes),
            "hold": fault.hold,
            "recovery": {
                name: _round(time_to_progress(times, item.started))
                for name, times in results.progress.items()
            },
        }
        if item.healed is not None and item.nodes:
            healed = item.healed
            entry["after_heal"] = {
                name: _round(time_to_progress(times, healed))
                for name, times in results.progress.items()
            }
        out.append(entry)
    return out


def _restarted(results: Results, name: str, start: float, end: float) -> bool:
    """True when the schedule killed service `name` between `start` and `end` (it was starting
    again, not waiting for quorum)."""
    return any(
        item.fault.kind is FaultKind.KILL_SERVICE
        and item.fault.target == name
        and start <= item.started <= end
        for item in results.injected
    )


def _quorum(results: Results) -> list[dict[str, Any]]:
    """Each loss of quorum, and how soon each publisher's acks resumed after it returned (a
    publisher the schedule killed meanwhile is left out: it was restarting)."""
    windows = []
    for window in results.quorum:
        resume: dict[str, float | None] = {}
        if window.returned is not None:
            end = window.returned + RESUME_TARGET
            for name in results.publishers:
                if _restarted(results, name, window.lost - _KILL_MARGIN, end):
                    continue
                resume[name] = _round(time_to_progress(results.progress[name], window.returned))
        windows.append(
            {
                "lost_at": round(window.lost - results.started, 2),
                "seconds": _round(
                    None if window.returned is None else window.returned - window.lost
                ),
                "acks_resumed_after": resume,
            }
        )
    return windows


def build_report(results: Results) -> Report:
    """The report of a run; `ok` when every guarantee held."""
    by_kind = Counter(str(item.fault.kind) for item in results.injected)
    gaps = {name: longest_gap(results.progress[name]) for name in results.publishers}
    every_ack = [t for name in results.publishers for t in results.progress[name]]
    overall = longest_gap(every_ack)
    quorum = _quorum(results)
    resumes = [s for w in quorum for s in w["acks_resumed_after"].values() if s is not None]
    ok = all(check.ok for check in results.checks)
    data: dict[str, Any] = {
        "ok": ok,
        "seed": results.seed,
        "duration_seconds": results.duration,
        "command": f"nats-pubsub chaos --duration {results.duration:g} --seed {results.seed}",
        "faults": {"total": len(results.injected), "by_kind": dict(sorted(by_kind.items()))},
        "publishers": _publisher_counts(results.runs),
        "messages": {
            "acked": sum(len(run.acks) for run in results.runs),
            "publish_failed": sum(run.failed for run in results.runs),
            "stored": dict(results.stored),
            "processed": dict(results.processed),
            "duplicates": results.duplicates.duplicates,
            "unreported_duplicates": results.duplicates.unreported,
            "core": dict(results.core),
        },
        "longest_without_ack_seconds": {
            "any_publisher": round(overall.seconds, 2),
            **{name: round(gap.seconds, 2) for name, gap in gaps.items()},
        },
        "quorum_losses": quorum,
        "acks_resumed_within_target": all(s <= RESUME_TARGET for s in resumes),
        "slowest_resume_seconds": max(resumes, default=None),
        "unexpected_exits": list(results.unexpected_exits),
        "checks": [check._asdict() for check in results.checks],
        "faults_injected": _recoveries(results),
    }
    return Report(ok, data)


def _worst_by_kind(faults: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """For each fault kind, the median and the worst recovery of any service."""
    spans: defaultdict[str, list[float]] = defaultdict(list)
    for fault in faults:
        times = [s for s in fault["recovery"].values() if s is not None]
        if times:
            spans[fault["kind"]].append(max(times))
    return {
        kind: {"median": round(statistics.median(values), 2), "worst": round(max(values), 2)}
        for kind, values in sorted(spans.items())
    }


def render_text(report: Report) -> str:
    """The report for a terminal: a few lines, then one line per guarantee."""
    data = report.data
    messages = data["messages"]
    lines = [
        f"chaos soak: {data['duration_seconds']:g} s, seed {data['seed']} "
        f"(again: {data['command']})",
        f"faults: {data['faults']['total']} "
        + ", ".join(f"{kind} {n}" for kind, n in data["faults"]["by_kind"].items()),
    ]
    for name, counts in data["publishers"].items():
        lines.append(
            f"  {name}: {counts['runs']} runs ({counts['killed_runs']} killed), "
            f"{counts['acked']} acked, {counts['failed']} failed, {counts['retries']} retries"
        )
    core = messages["core"]
    lines += [
        f"messages: {messages['acked']} acked, stored {messages['stored']}, processed "
        f"{messages['processed']}, {messages['duplicates']} duplicate deliveries "
        f"({messages['unreported_duplicates']} unreported)",
        f"core NATS: sent {core.get('sent', 0)}, received {core.get('received', 0)}, "
        f"reported lost {core.get('reported_lost', 0)}",
        "longest without an acked publish: "
        + ", ".join(f"{k} {v} s" for k, v in data["longest_without_ack_seconds"].items()),
        f"quorum lost {len(data['quorum_losses'])} times; slowest resume of acks after it: "
        f"{data['slowest_resume_seconds']} s (target {RESUME_TARGET:g} s)",
        "recovery after a fault (slowest service), by kind: "
        + ", ".join(
            f"{kind} median {v['median']} s worst {v['worst']} s"
            for kind, v in _worst_by_kind(data["faults_injected"]).items()
        ),
    ]
    if data["unexpected_exits"]:
        lines.append("unexpected exits: " + "; ".join(data["unexpected_exits"]))
    for check in data["checks"]:
        lines.append(f"  {'PASS' if check['ok'] else 'FAIL'} {check['name']}: {check['detail']}")
    lines.append("PASSED" if report.ok else "FAILED")
    return "\n".join(lines) + "\n"
