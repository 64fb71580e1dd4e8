"""The end of a chaos run: the streams' contents read with `nats-pubsub replay`, every service's
records read back from their files, and the checks run on them."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

from nats_pubsub.chaos import checks
from nats_pubsub.chaos.facts import (
    ConsumerRun,
    Delivery,
    PublisherRun,
    Stored,
    parse_lines,
    read_consumer_run,
    read_core_publisher,
    read_core_subscriber,
    read_publisher,
    read_stream,
)
from nats_pubsub.chaos.fleet import Fleet, Incarnation
from nats_pubsub.chaos.report import Results
from nats_pubsub.chaos.schedule import Injected
from nats_pubsub.chaos.timing import NodeEvent, quorum_windows
from nats_pubsub.chaos.workload import Role
from nats_pubsub.errors import ChaosError

__all__ = ["Collected", "dump_stream", "results"]

_REPLAY_TIMEOUT = 120.0


async def dump_stream(url: str, stream: str, path: Path, env: dict[str, str]) -> list[Stored]:
    """Every message of `stream`, read with `nats-pubsub replay` into `path`."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "nats_pubsub",
        "replay",
        "--stream",
        stream,
        "--output",
        str(path),
        "--connect-timeout",
        "30",
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
        env={**env, "NATS_URL": url},
    )
    _, err = await asyncio.wait_for(process.communicate(), _REPLAY_TIMEOUT)
    if process.returncode != 0:
        raise ChaosError(f"replay of {stream} failed: {err.decode(errors='replace')[-300:]}")
    with path.open("rb") as lines:
        return read_stream(parse_lines(lines))


def _records(inc: Incarnation) -> list[dict[str, object]]:
    with inc.log_path.open("rb") as lines:
        return parse_lines(lines)


class Collected:
    """The facts of every process of the run, by role."""

    def __init__(self, fleet: Fleet) -> None:
        self.runs: list[PublisherRun] = []
        self.deliveries: list[Delivery] = []
        self.consumers: list[ConsumerRun] = []
        self.core_sent: list[int] = []
        self.progress: dict[str, list[float]] = {}
        core_records: list[dict[str, object]] = []
        for name, history in fleet.history.items():
            spec = fleet.specs[name]
            times: list[float] = []
            for inc in history:
                records = _records(inc)
                if spec.role in (Role.JS_PUBLISHER, Role.PAYMENTS):
                    run = read_publisher(name, records, inc.exit_code)
                    self.runs.append(run)
                    times += [ack.at for ack in run.acks]
                elif spec.role in (Role.SUBSCRIBER, Role.MONITOR):
                    consumer = read_consumer_run(name, inc.number, records)
                    self.consumers.append(consumer)
                    self.deliveries += consumer.deliveries
                    times += [d.at for d in consumer.deliveries]
                elif spec.role is Role.CORE_PUBLISHER:
                    sent = read_core_publisher(records)
                    self.core_sent += [seq for seq, _ in sent]
                    times += [at for _, at in sent]
                else:
                    core_records += records
            self.progress[name] = sorted(times)
        self.core = read_core_subscriber(core_records, "chaos-core")
        self.progress["core-subscriber"] = sorted(self.core.times)


def results(
    *,
    seed: int,
    duration: float,
    started: float,
    collected: Collected,
    stored: dict[str, list[Stored]],
    injected: Sequence[Injected],
    node_events: Iterable[NodeEvent],
    nodes: Sequence[str],
    publishers: tuple[str, ...],
    unexpected: Sequence[str],
) -> Results:
    """Run the checks on what was collected; the report's inputs."""
    every_stored = [message for messages in stored.values() for message in messages]
    duplicates = checks.count_duplicates(collected.deliveries)
    found = [
        checks.acked_in_stream(collected.runs, every_stored),
        checks.stored_once(every_stored),
        checks.runs_complete(collected.runs),
        *(
            checks.stored_processed(stream, messages, collected.deliveries)
            for stream, messages in stored.items()
        ),
        checks.Check(
            "duplicates reported",
            duplicates.unreported == 0,
            f"{duplicates.duplicates} duplicate deliveries, {duplicates.unreported} unreported"
            + (f": {', '.join(duplicates.examples)}" if duplicates.examples else ""),
        ),
        checks.counted_once(collected.consumers),
        checks.core_balance(collected.core_sent, collected.core),
        checks.Check(
            "services stayed up",
            not unexpected,
            "; ".join(unexpected) or "no exit but those the schedule caused",
        ),
    ]
    processed = {
        stream: len({d.seq for d in collected.deliveries if d.stream == stream})
        for stream in stored
    }
    core_received = len(set(collected.core.sequences) & set(collected.core_sent))
    return Results(
        seed=seed,
        duration=duration,
        started=started,
        injected=tuple(injected),
        runs=tuple(collected.runs),
        stored={stream: len(messages) for stream, messages in stored.items()},
        processed=processed,
        duplicates=duplicates,
        core={
            "sent": len(set(collected.core_sent)),
            "received": core_received,
            "reported_lost": collected.core.reported_lost,
            "reported_duplicates": collected.core.reported_duplicates,
        },
        progress=collected.progress,
        publishers=publishers,
        quorum=tuple(quorum_windows(node_events, nodes)),
        unexpected_exits=tuple(unexpected),
        checks=tuple(found),
    )
