"""Loss made visible: per-source sequence tracking (gaps, duplicates, reordering) and bursts.

Core NATS is at-most-once, so a subscriber cannot get lost messages back, but it can count them:
every event carries its source and a sequence number starting at 1. `SequenceTracker` turns the
numbers it sees into counters; `BurstReport` turns a flood of per-message events into at most one
summary per key and interval. Both are pure: time is passed in.
"""

from __future__ import annotations

from collections import defaultdict
from enum import StrEnum

__all__ = ["BurstReport", "SequenceTracker", "Verdict"]

# Gaps remembered per source, so a late (reordered) message can be told from a duplicate.
_MAX_GAPS = 64


class Verdict(StrEnum):
    """What one (source, sequence) observation means."""

    FIRST = "first"  # the first message seen from this source
    NEXT = "next"  # exactly the one expected
    GAP = "gap"  # later than expected: the ones in between are lost (so far)
    DUPLICATE = "duplicate"  # seen before
    OUT_OF_ORDER = "out_of_order"  # one counted as lost arrived late after all
    RESTART = "restart"  # sequence 1 again: the source restarted and numbers afresh


class _Source:
    __slots__ = ("gaps", "last")

    def __init__(self, last: int) -> None:
        self.last = last
        self.gaps: list[tuple[int, int]] = []  # missing sequences, inclusive ranges, oldest first


class SequenceTracker:
    """Counts lost, duplicate and out-of-order messages from each source's sequence numbers.

    `lost` is net: a message first counted as lost and then arriving late is moved to
    `out_of_order`. So for a source that starts at 1: distinct received + lost = highest sequence.
    """

    __slots__ = ("_sources", "duplicates", "lost", "out_of_order", "restarts")

    def __init__(self) -> None:
        self._sources: dict[str, _Source] = {}
        self.lost = 0
        self.duplicates = 0
        self.out_of_order = 0
        self.restarts = 0

    def advance(self, source: str, sequence: int) -> bool:
        """Take `sequence` if it is the next one from a known `source` (the common case, with no
        verdict built); False, and nothing recorded, for anything else: then call `observe`."""
        state = self._sources.get(source)
        if state is not None and sequence == state.last + 1:
            state.last = sequence
            return True
        return False

    def observe(self, source: str, sequence: int) -> tuple[Verdict, int]:
        """Record one message; return what it means and how many were newly lost (for GAP)."""
        state = self._sources.get(source)
        if state is None:
            self._sources[source] = _Source(sequence)
            return Verdict.FIRST, 0
        last = state.last
        if sequence == last + 1:
            state.last = sequence
            return Verdict.NEXT, 0
        if sequence > last:
            missing = sequence - last - 1
            self.lost += missing
            state.gaps.append((last + 1, sequence - 1))
            if len(state.gaps) > _MAX_GAPS:
                del state.gaps[0]
            state.last = sequence
            return Verdict.GAP, missing
        if _fill(state.gaps, sequence):
            self.lost -= 1
            self.out_of_order += 1
            return Verdict.OUT_OF_ORDER, 0
        if sequence == 1:
            self._sources[source] = _Source(1)
            self.restarts += 1
            return Verdict.RESTART, 0
        self.duplicates += 1
        return Verdict.DUPLICATE, 0

    def snapshot(self) -> dict[str, int]:
        """The counters, for a metrics record."""
        return {
            "lost": self.lost,
            "duplicates": self.duplicates,
            "out_of_order": self.out_of_order,
            "source_restarts": self.restarts,
        }


def _fill(gaps: list[tuple[int, int]], sequence: int) -> bool:
    """Remove `sequence` from the missing ranges; False when it was not missing."""
    for index, (low, high) in enumerate(gaps):
        if low <= sequence <= high:
            rest = [(a, b) for a, b in ((low, sequence - 1), (sequence + 1, high)) if a <= b]
            gaps[index : index + 1] = rest
            return True
    return False


class BurstReport:
    """Accumulates counts per key; says when to report: the first at once, then once per interval.

    `add` returns the count to report now (everything since the last report) or None to hold it;
    `due` releases held counts whose interval has passed, `drain` all of them (e.g. at shutdown).
    """

    __slots__ = ("_held", "_last", "held", "interval")

    def __init__(self, interval: float = 1.0) -> None:
        self.interval = interval
        self._held: defaultdict[str, int] = defaultdict(int)
        self.held: dict[str, int] = self._held  # the counts held back (read only): falsy if none
        self._last: dict[str, float] = {}

    def add(self, key: str, count: int, now: float) -> int | None:
        """Count `count` events for `key`; return the total to report now, if one is due."""
        self._held[key] += count
        last = self._last.get(key)
        if last is not None and now - last < self.interval:
            return None
        self._last[key] = now
        return self._held.pop(key)

    def due(self, now: float) -> dict[str, int]:
        """Held counts whose interval has passed since their key's last report."""
        ready = [k for k in self._held if now - self._last.get(k, now) >= self.interval]
        for key in ready:
            self._last[key] = now
        return {key: self._held.pop(key) for key in ready}

    def drain(self) -> dict[str, int]:
        """Every held count (reporting them now)."""
        held = dict(self._held)
        self._held.clear()
        return held

    @property
    def holding(self) -> bool:
        """True when some count is waiting to be reported."""
        return bool(self._held)
