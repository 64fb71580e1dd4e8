"""The fault schedule of a chaos run: what breaks, when and for how long, from a seed (pure).

A fault starts every 2 to 5 seconds. Node faults may overlap on different nodes, at most two
nodes impaired at once (two at once is a planned loss of quorum, or two overlapping ones); a
leader kill is the only node fault while it lasts, because which node it hits is known only when
it happens. A fault that does not fit at its time becomes a service kill; one that finds every
service already down is left out. The same seed and arguments give the same schedule.
"""

from __future__ import annotations

import random
from enum import StrEnum
from typing import Final, NamedTuple

__all__ = [
    "NODE_KINDS",
    "REJOIN_SECONDS",
    "Fault",
    "FaultKind",
    "Injected",
    "plan",
]


class FaultKind(StrEnum):
    """What a fault does."""

    KILL_NODE = "kill_node"  # kill -9 a node, restart it after `hold` seconds
    KILL_META_LEADER = "kill_meta_leader"  # kill -9 the JetStream meta leader
    KILL_STREAM_LEADER = "kill_stream_leader"  # kill -9 the leader of stream `target`
    LOSE_QUORUM = "lose_quorum"  # kill -9 two of three nodes at once
    FREEZE_NODE = "freeze_node"  # SIGSTOP a node, SIGCONT after `hold` seconds
    PARTITION_NODE = "partition_node"  # cut a node off from the others (--partition)
    KILL_SERVICE = "kill_service"  # kill -9 a publisher or a subscriber, restart it


NODE_KINDS: Final = frozenset(set(FaultKind) - {FaultKind.KILL_SERVICE})
_LEADER_KINDS: Final = frozenset({FaultKind.KILL_META_LEADER, FaultKind.KILL_STREAM_LEADER})
# Seconds a node is counted as impaired after it is restarted, while it catches up.
REJOIN_SECONDS: Final = 4.0
_GAP: Final = (2.0, 5.0)  # seconds between the starts of two faults
_SERVICE_RESTART: Final = 2.0  # seconds a killed service is counted down after its restart
_HOLD: Final = {
    FaultKind.KILL_NODE: (0.5, 8.0),
    FaultKind.KILL_META_LEADER: (1.0, 6.0),
    FaultKind.KILL_STREAM_LEADER: (1.0, 6.0),
    FaultKind.LOSE_QUORUM: (2.0, 6.0),
    FaultKind.FREEZE_NODE: (1.0, 10.0),
    FaultKind.PARTITION_NODE: (2.0, 10.0),
    FaultKind.KILL_SERVICE: (0.2, 3.0),
}
_WEIGHTS: Final = {
    FaultKind.KILL_NODE: 22,
    FaultKind.KILL_META_LEADER: 8,
    FaultKind.KILL_STREAM_LEADER: 10,
    FaultKind.LOSE_QUORUM: 6,
    FaultKind.FREEZE_NODE: 18,
    FaultKind.PARTITION_NODE: 10,
    FaultKind.KILL_SERVICE: 26,
}


class Fault(NamedTuple):
    """One fault: `at` seconds from the start, held `hold` seconds.

    `target`: a node name (``n1``…) for node faults, both for LOSE_QUORUM (``n1+n3``), the
    stream for KILL_STREAM_LEADER, a service name for KILL_SERVICE, "" for KILL_META_LEADER.
    """

    at: float
    kind: FaultKind
    target: str
    hold: float


class _Busy:
    """Until when each node and service is impaired, as the plan goes along."""

    def __init__(self, nodes: list[str], services: tuple[str, ...]) -> None:
        self.nodes = dict.fromkeys(nodes, 0.0)
        self.services = dict.fromkeys(services, 0.0)
        self.leader_until = 0.0  # a leader kill is under way until then

    def free_nodes(self, at: float) -> list[str]:
        return [name for name, until in self.nodes.items() if until <= at]

    def impaired(self, at: float) -> int:
        return len(self.nodes) - len(self.free_nodes(at))


def plan(
    seed: int,
    duration: float,
    *,
    nodes: int = 3,
    services: tuple[str, ...] = (),
    streams: tuple[str, ...] = (),
    partition: bool = False,
) -> list[Fault]:
    """Every fault of a run of `duration` seconds, in order of `at`."""
    rng = random.Random(seed)
    names = [f"n{i + 1}" for i in range(nodes)]
    busy = _Busy(names, services)
    weights = {
        kind: weight
        for kind, weight in _WEIGHTS.items()
        if (partition or kind is not FaultKind.PARTITION_NODE)
        and (streams or kind is not FaultKind.KILL_STREAM_LEADER)
        and (nodes >= 3 or kind is not FaultKind.LOSE_QUORUM)
    }
    kinds, odds = list(weights), list(weights.values())
    faults: list[Fault] = []
    at = rng.uniform(*_GAP)
    while at < duration:
        kind = rng.choices(kinds, odds)[0]
        hold = round(rng.uniform(*_HOLD[kind]), 2)
        fault = _place(rng, busy, round(at, 2), kind, hold, streams)
        if fault is not None:
            faults.append(fault)
        at += rng.uniform(*_GAP)
    return faults


def _place(
    rng: random.Random,
    busy: _Busy,
    at: float,
    kind: FaultKind,
    hold: float,
    streams: tuple[str, ...],
) -> Fault | None:
    """The fault `kind` at `at` if it fits what is already impaired, else a service kill."""
    until = at + hold + REJOIN_SECONDS
    free = busy.free_nodes(at)
    leader_running = busy.leader_until > at
    if kind in _LEADER_KINDS and not leader_running and len(free) == len(busy.nodes):
        busy.leader_until = until
        for name in busy.nodes:  # whichever node it is: no other node fault meanwhile
            busy.nodes[name] = until
        target = rng.choice(streams) if kind is FaultKind.KILL_STREAM_LEADER else ""
        return Fault(at, kind, target, hold)
    if kind is FaultKind.LOSE_QUORUM and not leader_running and len(free) == len(busy.nodes):
        pair = sorted(rng.sample(free, 2))
        for name in pair:
            busy.nodes[name] = until
        return Fault(at, kind, "+".join(pair), hold)
    simple = (FaultKind.KILL_NODE, FaultKind.FREEZE_NODE, FaultKind.PARTITION_NODE)
    if kind in simple and not leader_running and free and busy.impaired(at) < 2:
        name = rng.choice(free)
        busy.nodes[name] = until
        return Fault(at, kind, name, hold)
    return _service_kill(rng, busy, at)


def _service_kill(rng: random.Random, busy: _Busy, at: float) -> Fault | None:
    ready = [name for name, until in busy.services.items() if until <= at]
    if not ready:
        return None
    name = rng.choice(ready)
    hold = round(rng.uniform(*_HOLD[FaultKind.KILL_SERVICE]), 2)
    busy.services[name] = at + hold + _SERVICE_RESTART
    return Fault(at, FaultKind.KILL_SERVICE, name, hold)


class Injected(NamedTuple):
    """A fault as it happened: when (epoch seconds), when healed, which nodes it hit."""

    fault: Fault
    started: float
    healed: float | None
    nodes: tuple[str, ...]
