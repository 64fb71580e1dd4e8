"""How long things stalled in a chaos run: gaps between acks, recovery after faults, quorum
windows, all from timestamps (epoch seconds) the services logged (pure)."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Sequence
from itertools import pairwise
from typing import NamedTuple

__all__ = [
    "Gap",
    "NodeEvent",
    "QuorumWindow",
    "longest_gap",
    "quorum_windows",
    "time_to_progress",
]


class Gap(NamedTuple):
    """The longest time between two consecutive progress marks, and when it began."""

    seconds: float
    start: float


class NodeEvent(NamedTuple):
    """A node became impaired (healthy False: killed, frozen, cut off) or healthy again."""

    at: float
    node: str
    healthy: bool


class QuorumWindow(NamedTuple):
    """A time when fewer than a majority of nodes were healthy: lost, and returned (None: never)."""

    lost: float
    returned: float | None


def longest_gap(times: Iterable[float]) -> Gap:
    """The longest interval between consecutive times (0 when fewer than two)."""
    ordered = sorted(times)
    best = Gap(0.0, ordered[0] if ordered else 0.0)
    for before, after in pairwise(ordered):
        if after - before > best.seconds:
            best = Gap(after - before, before)
    return best


def time_to_progress(times: Sequence[float], since: float) -> float | None:
    """Seconds from `since` to the first of the sorted `times` at or after it (None: none)."""
    index = bisect_left(times, since)
    return times[index] - since if index < len(times) else None


def quorum_windows(events: Iterable[NodeEvent], nodes: Sequence[str]) -> list[QuorumWindow]:
    """The windows with fewer than a majority of `nodes` healthy, in order."""
    healthy = dict.fromkeys(nodes, True)
    majority = len(nodes) // 2 + 1
    windows: list[QuorumWindow] = []
    lost: float | None = None
    for event in sorted(events, key=lambda e: e.at):
        healthy[event.node] = event.healthy
        up = sum(healthy.values())
        if lost is None and up < majority:
            lost = event.at
        elif lost is not None and up >= majority:
            windows.append(QuorumWindow(lost, event.at))
            lost = None
    if lost is not None:
        windows.append(QuorumWindow(lost, None))
    return windows
