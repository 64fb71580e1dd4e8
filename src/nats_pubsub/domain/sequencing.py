"""Loss made visible: per-source sequence tracking (gaps, duplicates, reordering) and bursts.

Core NATS is at-most-once, so a subscriber cannot get lost messages back, but it can count them:
every event carries its source and a sequence number starting at 1. `SequenceTracker` turns the
numbers it sees into counters; `BurstReport` turns a flood of per-message events into at most one
summary per key and interval. Both are pure: time is passed in.
"""

from __future__ import annotations

from collections import defaultdict, deque
from enum import StrEnum
from typing import Final

__all__ = ["MAX_TRACKED_SOURCES", "BurstReport", "SequenceTracker", "Verdict"]

# Gaps remembered per source, so a late (reordered) message can be told from a duplicate.
_MAX_GAPS = 64
# Sources whose sequence is followed at once; beyond it the least recently seen is forgotten.
MAX_TRACKED_SOURCES: Final = 10_000


class Verdict(StrEnum):
    """What one (source, sequence) observation means."""

    FIRST = "first"  # the first message seen from this source
    NEXT = "next"  # exactly the one expected
    GAP = "gap"  # later than expected: the ones in between are lost (so far)
    DUPLICATE = "duplicate"  # seen before
    OUT_OF_ORDER = "out_of_order"  # one counted as lost arrived late after all
    RESTART = "restart"  # sequence 1 again: the source restarted and numbers afresh


class _Source:
    __slots__ = ("gaps", "last", "seen")

    def __init__(self, last: int) -> None:
        self.last = last
        self.gaps: list[tuple[int, int]] = []  # missing sequences, inclusive ranges, oldest first
        self.seen = False  # seen since the eviction hand last passed it


class SequenceTracker:
    """Counts lost, duplicate and out-of-order messages from each source's sequence numbers.

    `lost` is net: a message first counted as lost and then arriving late is moved to
    `out_of_order`. So for a source that starts at 1: distinct received + lost = highest sequence.

    At most `max_sources` sources are followed: a new one beyond that evicts the least recently
    seen (a clock sweep: the oldest source not seen since the sweep last passed it), counted in
    `evicted`. An evicted source that comes back starts afresh (FIRST), as after a restart.
    """

    __slots__ = (
        "_order",
        "_sources",
        "duplicates",
        "evicted",
        "lost",
        "max_sources",
        "out_of_order",
        "restarts",
    )

    def __init__(self, max_sources: int = MAX_TRACKED_SOURCES) -> None:
        self._sources: dict[str, _Source] = {}
        self._order: deque[str] = deque()  # the sweep's order: each tracked source once
        self.max_sources = max_sources
        self.lost = 0
        self.duplicates = 0
        self.out_of_order = 0
        self.restarts = 0
        self.evicted = 0

    @property
    def tracked(self) -> int:
        """Sources followed right now."""
        return len(self._sources)

    def advance(self, source: str, sequence: int) -> bool:
        """Take `sequence` if it is the next one from a known `source` (the common case, with no
        verdict built); False, and nothing recorded, for anything else: then call `observe`."""
        state = self._sources.get(source)
        if state is not None and sequence == state.last + 1:
            state.last = sequence
            state.seen = True
            return True
        return False

    def observe(self, source: str, sequence: int) -> tuple[Verdict, int]:
        """Record one message; return what it means and how many were newly lost (for GAP)."""
        state = self._sources.get(source)
        if state is None:
            if len(self._sources) >= self.max_sources:
                self._evict()
            self._sources[source] = _Source(sequence)
            self._order.append(source)
            return Verdict.FIRST, 0
        state.seen = True
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

    def _evict(self) -> None:
        """Forget one source: the first in sweep order not seen since the sweep passed it."""
        order, sources = self._order, self._sources
        while True:
            name = order.popleft()
            state = sources[name]
            if not state.seen:
                del sources[name]
                self.evicted += 1
                return
            state.seen = False  # seen lately: a second chance, at the back
            order.append(name)

    def snapshot(self) -> dict[str, int]:
        """The counters, for a metrics record."""
        return {
            "lost": self.lost,
            "duplicates": self.duplicates,
            "out_of_order": self.out_of_order,
            "source_restarts": self.restarts,
            "tracked_sources": len(self._sources),
            "sources_evicted": self.evicted,
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
    Keys are per source: past `max_keys` remembered report times, those older than the interval
    (which hold nothing back any more) are forgotten, so memory follows the rate, not the history.
    """

    __slots__ = ("_held", "_last", "_next_due", "held", "interval", "max_keys")

    def __init__(self, interval: float = 1.0, max_keys: int = 4096) -> None:
        self.interval = interval
        self.max_keys = max_keys
        self._held: defaultdict[str, int] = defaultdict(int)
        self.held: dict[str, int] = self._held  # the counts held back (read only): falsy if none
        self._last: dict[str, float] = {}
        self._next_due = float("inf")  # the earliest time a held count is due

    def add(self, key: str, count: int, now: float) -> int | None:
        """Count `count` events for `key`; return the total to report now, if one is due."""
        self._held[key] += count
        last = self._last.get(key)
        if last is not None and now - last < self.interval:
            self._next_due = min(self._next_due, last + self.interval)
            return None
        if last is None and len(self._last) >= self.max_keys:
            self._forget_before(now - self.interval)
        self._last[key] = now
        return self._held.pop(key)

    def _forget_before(self, cutoff: float) -> None:
        """Drop report times older than `cutoff` of keys holding nothing back."""
        held = self._held
        self._last = {k: t for k, t in self._last.items() if t > cutoff or k in held}

    def due(self, now: float) -> dict[str, int]:
        """Held counts whose interval has passed since their key's last report."""
        if now < self._next_due:
            return {}  # the common call: nothing is due yet, and no key is looked at
        interval, last = self.interval, self._last
        ready = [k for k in self._held if now - last.get(k, now) >= interval]
        for key in ready:
            last[key] = now
        released = {key: self._held.pop(key) for key in ready}
        self._next_due = min((last[k] + interval for k in self._held), default=float("inf"))
        return released

    def drain(self) -> dict[str, int]:
        """Every held count (reporting them now)."""
        held = dict(self._held)
        self._held.clear()
        self._next_due = float("inf")
        return held

    @property
    def holding(self) -> bool:
        """True when some count is waiting to be reported."""
        return bool(self._held)
