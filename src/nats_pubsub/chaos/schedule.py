"""The fault schedule of a chaos run: what breaks, when and for how long, from a seed (pure).

A fault starts every 2 to 5 seconds. Node faults may overlap on different nodes, at most two
nodes impaired at once (two at once is a planned loss of quorum, or two overlapping ones); a
leader kill is the only node fault while it lasts, because which node it hits is known only when
it happens. Each fault's kind is drawn, by weight, from the kinds that fit at its time. The same
seed and arguments give the same schedule.
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
REJOIN_SECONDS: Final = 3.0
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
# Leader kills and the loss of quorum fit only while no node is impaired, so they weigh more.
_WEIGHTS: Final = {
    FaultKind.KILL_NODE: 20,
    FaultKind.KILL_META_LEADER: 25,
    FaultKind.KILL_STREAM_LEADER: 30,
    FaultKind.LOSE_QUORUM: 20,
    FaultKind.FREEZE_NODE: 16,
    FaultKind.PARTITION_NODE: 12,
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
    busy = _Busy([f"n{i + 1}" for i in range(nodes)], services)
    weights = {
        kind: weight
        for kind, weight in _WEIGHTS.items()
        if (partition or kind is not FaultKind.PARTITION_NODE)
        and (streams or kind is not FaultKind.KILL_STREAM_LEADER)
        and (nodes >= 3 or kind is not FaultKind.LOSE_QUORUM)
    }
    faults: list[Fault] = []
    at = rng.uniform(*_GAP)
    while at < duration:
        now = round(at, 2)
        kinds = [kind for kind in weights if _fits(busy, now, kind)]
        if kinds:
            kind = rng.choices(kinds, [weights[kind] for kind in kinds])[0]
            faults.append(_place(rng, busy, now, kind, streams))
        at += rng.uniform(*_GAP)
    return faults


def _fits(busy: _Busy, at: float, kind: FaultKind) -> bool:
    """Whether a fault of `kind` may start at `at`, given what is impaired then."""
    if kind is FaultKind.KILL_SERVICE:
        return any(until <= at for until in busy.services.values())
    if busy.leader_until > at:
        return False  # a leader kill: its node is known only when it happens
    free = len(busy.free_nodes(at))
    if kind in _LEADER_KINDS or kind is FaultKind.LOSE_QUORUM:
        return free == len(busy.nodes)
    return free > 0 and busy.impaired(at) < 2


def _place(
    rng: random.Random, busy: _Busy, at: float, kind: FaultKind, streams: tuple[str, ...]
) -> Fault:
    """The fault `kind` at `at` (it fits), with its target and hold; marks what it impairs."""
    hold = round(rng.uniform(*_HOLD[kind]), 2)
    if kind is FaultKind.KILL_SERVICE:
        name = rng.choice([name for name, until in busy.services.items() if until <= at])
        busy.services[name] = at + hold + _SERVICE_RESTART
        return Fault(at, kind, name, hold)
    until = at + hold + REJOIN_SECONDS
    if kind in _LEADER_KINDS:
        busy.leader_until = until
        for name in busy.nodes:  # whichever node it is: no other node fault meanwhile
            busy.nodes[name] = until
        target = rng.choice(streams) if kind is FaultKind.KILL_STREAM_LEADER else ""
        return Fault(at, kind, target, hold)
    free = busy.free_nodes(at)
    chosen = sorted(rng.sample(free, 2)) if kind is FaultKind.LOSE_QUORUM else [rng.choice(free)]
    for name in chosen:
        busy.nodes[name] = until
    return Fault(at, kind, "+".join(chosen), hold)


class Injected(NamedTuple):
    """A fault as it happened: when (epoch seconds), when healed, which nodes it hit."""

    fault: Fault
    started: float
    healed: float | None
    nodes: tuple[str, ...]
