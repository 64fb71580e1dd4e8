"""Carrying out one fault of the schedule on the cluster or the services, and healing it."""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Protocol

from nats_pubsub.chaos.fleet import Fleet
from nats_pubsub.chaos.nodes import ChaosNodes
from nats_pubsub.chaos.schedule import Fault, FaultKind, Injected
from nats_pubsub.logs.logger import Logger

__all__ = ["Injector", "Partitioner"]

_NODE_WAIT = 30.0  # seconds a fault waits for its node to be healthy again before it goes on


class Partitioner(Protocol):
    """Cuts a node off from the other nodes and heals it (network namespaces)."""

    def cut(self, node: str) -> None: ...

    def heal(self, node: str) -> None: ...


class Injector:
    """Does what a fault says, holds it, heals it; returns what happened."""

    def __init__(
        self, nodes: ChaosNodes, fleet: Fleet, log: Logger, partition: Partitioner | None = None
    ) -> None:
        self._nodes = nodes
        self._fleet = fleet
        self._log = log
        self._partition = partition

    async def run(self, fault: Fault) -> Injected:
        """Inject `fault` now, wait `fault.hold` seconds, heal it."""
        kind = fault.kind
        if kind is FaultKind.KILL_SERVICE:
            return await self._kill_service(fault)
        if kind in (FaultKind.KILL_META_LEADER, FaultKind.KILL_STREAM_LEADER):
            stream = fault.target if kind is FaultKind.KILL_STREAM_LEADER else None
            leader = await self._nodes.leader(stream)
            targets: tuple[str, ...] = (leader or self._nodes.names[0],)
        else:
            targets = tuple(fault.target.split("+"))
        for name in targets:  # a node still coming back from an earlier fault
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._nodes.healthy[name].wait(), _NODE_WAIT)
        started = time.time()
        self._log.info(
            "Fault injected",
            kind=str(kind),
            target=fault.target,
            nodes=list(targets),
            hold=fault.hold,
        )
        if kind is FaultKind.FREEZE_NODE:
            self._nodes.freeze(targets[0])
            await asyncio.sleep(fault.hold)
            self._nodes.thaw(targets[0])
        elif kind is FaultKind.PARTITION_NODE and self._partition is not None:
            self._partition.cut(targets[0])
            self._nodes.mark_cut(targets[0], True)
            await asyncio.sleep(fault.hold)
            self._partition.heal(targets[0])
            self._nodes.mark_cut(targets[0], False)
        else:
            await asyncio.gather(*(self._nodes.kill(name) for name in targets))
            await asyncio.sleep(fault.hold)
            await asyncio.gather(*(self._nodes.restart(name) for name in targets))
        healed = time.time()
        self._log.info("Fault healed", kind=str(kind), nodes=list(targets))
        return Injected(fault, started, healed, targets)

    async def _kill_service(self, fault: Fault) -> Injected:
        name = fault.target
        current = self._fleet.current(name)
        if current is not None and not current.running and not current.exited.is_set():
            with contextlib.suppress(TimeoutError):  # still starting: kill it once it runs
                await asyncio.wait_for(current.ready.wait(), _NODE_WAIT)
        started = time.time()
        killed = self._fleet.kill(name)
        self._log.info(
            "Fault injected",
            kind=str(fault.kind),
            target=name,
            process=None if killed is None else killed.number,
            hold=fault.hold,
        )
        if killed is not None:
            await killed.exited.wait()
            await asyncio.sleep(fault.hold)
            await self._fleet.start(name)
        healed = time.time()
        self._log.info("Fault healed", kind=str(fault.kind), target=name)
        return Injected(fault, started, healed, ())
