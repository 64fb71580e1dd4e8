"""`nats-pubsub chaos`: a 3-node cluster and the workload, faults from the schedule for the
run's duration, then everything healed, drained and checked, and the report printed.

Phases: start the nodes and the services (consumers first); inject each fault at its time (they
may overlap); at the end of the duration heal everything, let each `--count` run finish, stop
the core publisher, read the streams, wait for the consumers to process what is stored, stop
them; then check what their records and the streams say.
"""

from __future__ import annotations

import asyncio
import os
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Coroutine
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from nats_pubsub.chaos.collect import Collected, dump_stream, results
from nats_pubsub.chaos.facts import Stored
from nats_pubsub.chaos.fleet import Fleet, Incarnation
from nats_pubsub.chaos.inject import Injector, Partitioner
from nats_pubsub.chaos.netns import NetnsCluster, NetnsLab
from nats_pubsub.chaos.nodes import ChaosNodes
from nats_pubsub.chaos.report import Report, build_report, render_text
from nats_pubsub.chaos.schedule import Fault, Injected, plan
from nats_pubsub.chaos.timing import NodeEvent
from nats_pubsub.chaos.workload import (
    EVENTS_STREAM,
    PAYMENTS_STREAM,
    Role,
    killable,
    service_env,
    workload,
)
from nats_pubsub.errors import ChaosError, EmbeddedServerError
from nats_pubsub.lifecycle import wait_or_stop
from nats_pubsub.logs.logger import Logger
from nats_pubsub.server.cluster import EmbeddedCluster

if TYPE_CHECKING:
    from nats_pubsub.config.chaos import ChaosSettings

__all__ = ["run_chaos"]

_RUN_FINISH_WAIT = 180.0  # seconds each --count run has to end by itself once all is healed
_CATCH_UP_WAIT = 120.0  # seconds the consumers have to process everything stored
_CLUSTER_WAIT = 120.0


class _Soak:
    """The state of one run shared by its phases."""

    def __init__(self, settings: ChaosSettings, log: Logger, work: Path, seed: int) -> None:
        self.settings = settings
        self.log = log
        self.work = work
        self.seed = seed
        self.specs = workload()
        self.active = False  # count runs are started again while this holds
        self.unexpected: list[str] = []
        self.node_events: list[NodeEvent] = []
        self.injected: list[Injected] = []
        self._tasks: set[asyncio.Task[object]] = set()
        (work / "logs").mkdir(parents=True, exist_ok=True)
        self.lab = NetnsLab() if settings.partition else None
        self.cluster = (
            EmbeddedCluster(3, store_dir=work / "nodes", name="chaos")
            if self.lab is None
            else NetnsCluster(self.lab, store_dir=work / "nodes", name="chaos")
        )
        self.nodes = ChaosNodes(self.cluster, self.node_events.append)
        self.fleet = Fleet(self.specs, work / "logs", self._on_exit)

    def _spawn(self, coro: Coroutine[Any, Any, object]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _on_exit(self, inc: Incarnation) -> None:
        """A process ended: the next --count run, or an exit nothing scheduled."""
        spec = inc.spec
        if inc.killed or inc.stopping:
            return
        if spec.count_runs and inc.exit_code == 0:
            if self.active:
                self._spawn(self.fleet.start(spec.name))
            return
        self.unexpected.append(f"{spec.name} #{inc.number} exited with code {inc.exit_code}")
        self.log.warning(
            "Service exited unexpectedly", service=spec.name, process=inc.number, code=inc.exit_code
        )
        if self.active:
            self._spawn(self.fleet.start(spec.name))

    async def start(self) -> None:
        if self.lab is not None:
            self.lab.check()
            await asyncio.to_thread(self.lab.setup)
        await asyncio.to_thread(self.cluster.start, _CLUSTER_WAIT)
        self.fleet.connect_to(self.cluster.url)  # its nodes' ports are known once they run
        for spec in self.specs:  # consumers first: they are listed first
            inc = await self.fleet.start(spec.name)
            if not inc.ready.is_set():
                raise ChaosError(f"{spec.name} did not start: see {inc.log_path} and .stderr")
        self.active = True
        self.log.info("Chaos workload running", services=[spec.name for spec in self.specs])

    async def inject(self, faults: list[Fault], stop: asyncio.Event) -> float:
        """Inject every fault at its time; returns when the schedule's duration is over."""
        injector = Injector(self.nodes, self.fleet, self.log, self._partitioner())
        loop = asyncio.get_running_loop()
        began = loop.time()
        running: list[asyncio.Task[Injected]] = []
        for fault in faults:
            if await wait_or_stop(stop, max(0.0, began + fault.at - loop.time())):
                break
            running.append(asyncio.create_task(injector.run(fault)))
        await wait_or_stop(stop, max(0.0, began + self.settings.duration - loop.time()))
        self.active = False
        for task in running:
            self.injected.append(await task)
        return began

    def _partitioner(self) -> Partitioner | None:
        return self.lab

    async def finish(self) -> dict[str, list[Stored]]:
        """Heal, let the runs end, drain the consumers; the streams' contents."""
        await self.nodes.wait_ready(_CLUSTER_WAIT)
        fleet = self.fleet
        for spec in self.specs:
            inc = fleet.current(spec.name)
            if inc is None or spec.role in (Role.SUBSCRIBER, Role.MONITOR, Role.CORE_SUBSCRIBER):
                continue
            if not spec.count_runs:
                await self._stop(inc)
                continue
            try:
                await asyncio.wait_for(inc.exited.wait(), _RUN_FINISH_WAIT)
            except TimeoutError:
                self.unexpected.append(f"{spec.name} #{inc.number} did not finish its --count run")
                await fleet.stop(spec.name)
        env = service_env(dict(os.environ), self.cluster.url)
        stored = {
            stream: await dump_stream(self.cluster.url, stream, self.work / f"{stream}.jsonl", env)
            for stream in (EVENTS_STREAM, PAYMENTS_STREAM)
        }
        wanted = {stream: {m.seq for m in messages} for stream, messages in stored.items()}

        def caught_up() -> bool:
            core = fleet.core_last
            return core[Role.CORE_SUBSCRIBER] >= core[Role.CORE_PUBLISHER] and all(
                seqs <= fleet.processed.get(stream, set()) for stream, seqs in wanted.items()
            )

        await fleet.wait_until(caught_up, _CATCH_UP_WAIT)
        for spec in self.specs:
            inc = fleet.current(spec.name)
            if inc is not None and not inc.exited.is_set():
                await self._stop(inc)
        return stored

    async def _stop(self, inc: Incarnation) -> None:
        """Stop a service that must still be running at the end; it must exit 0."""
        name = inc.spec.name
        if not inc.running:
            self.unexpected.append(f"{name} #{inc.number} was not running at the end")
            return
        code = await self.fleet.stop(name)
        if code != 0:
            self.unexpected.append(f"{name} #{inc.number} stopped with code {code}")

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await self.fleet.close()
        await self.nodes.stop()
        if self.lab is not None:
            await asyncio.to_thread(self.lab.teardown)
        for name in self.nodes.names:  # each node's own log, for a failed run's inspection
            lines = self.nodes.node(name).lines
            (self.work / "nodes" / f"{name}.log").write_text("\n".join(lines) + "\n")


async def run_chaos(
    settings: ChaosSettings,
    log: Logger,
    stop: asyncio.Event,
    *,
    as_json: bool = False,
    out: IO[str] = sys.stdout,
) -> int:
    """Run the soak; print the report (text, or JSON); 0 when every guarantee held, else 1."""
    seed = settings.seed if settings.seed is not None else random.SystemRandom().randrange(10**6)
    work = settings.work_dir or Path(tempfile.mkdtemp(prefix="nats-pubsub-chaos-"))
    soak = _Soak(settings, log, work, seed)
    faults = plan(
        seed,
        settings.duration,
        services=killable(soak.specs),
        streams=(EVENTS_STREAM, PAYMENTS_STREAM),
        partition=settings.partition,
    )
    log.info(
        "Chaos soak started",
        seed=seed,
        duration_seconds=settings.duration,
        faults_planned=len(faults),
        work_dir=str(work),
    )
    started = time.time()
    try:
        await soak.start()
        await soak.inject(faults, stop)
        stored = await soak.finish()
    except (ChaosError, EmbeddedServerError) as exc:
        log.error("Chaos soak could not run", error=str(exc), work_dir=str(work))
        return 1
    finally:
        await soak.close()
    collected = Collected(soak.fleet)
    publishers = tuple(
        spec.name for spec in soak.specs if spec.role in (Role.JS_PUBLISHER, Role.PAYMENTS)
    )
    report: Report = build_report(
        results(
            seed=seed,
            duration=settings.duration,
            started=started,
            collected=collected,
            stored=stored,
            injected=soak.injected,
            node_events=soak.node_events,
            nodes=soak.nodes.names,
            publishers=publishers,
            unexpected=soak.unexpected,
        )
    )
    (work / "report.json").write_text(report.as_json() + "\n")
    out.write(report.as_json() + "\n" if as_json else render_text(report))
    out.flush()
    log.info("Chaos soak finished", ok=report.ok, work_dir=str(work))
    if report.ok and settings.work_dir is None:
        shutil.rmtree(work, ignore_errors=True)
    return 0 if report.ok else 1
