"""The live tail's sampling, pure: the last few messages of each subject, and what each watcher
is shown of them.

Every message seen goes into its subject's small ring (`TailBuffer.add`: one append). A watcher
(`TailCursor`, one per open tail) takes, every half second, at most `limit` messages matching its
filter that it has not been shown, each subject's newest first, and is told how many others
matched meanwhile (`skipped`). So a browser gets a bounded number of messages whatever the rate,
and a rare subject is not drowned by a busy one: each keeps its own ring and gets its turn.
"""

from __future__ import annotations

from collections import deque
from typing import Final, NamedTuple

from nats_pubsub.domain.subjects import subject_matches

__all__ = [
    "KEEP_BYTES",
    "PER_SUBJECT",
    "TailBuffer",
    "TailCursor",
    "TailEntry",
    "TailTake",
]

PER_SUBJECT: Final = 8
MAX_RINGS: Final = 256
KEEP_BYTES: Final = 8192  # of each payload: enough to show, bounded memory
_OVERFLOW: Final = ""  # the ring of subjects past MAX_RINGS


class TailEntry(NamedTuple):
    """A message kept for the tail: its number (order of arrival), time, subject, the first
    KEEP_BYTES of its payload, its full size, and its headers."""

    n: int
    time_ns: int
    subject: str
    data: bytes
    size: int
    headers: dict[str, str] | None


class _Ring:
    __slots__ = ("count", "items")

    def __init__(self) -> None:
        self.items: deque[TailEntry] = deque(maxlen=PER_SUBJECT)
        self.count = 0  # messages ever added


class TailBuffer:
    """The newest PER_SUBJECT messages of each subject (up to MAX_RINGS subjects; others share
    one ring)."""

    __slots__ = ("_rings", "n")

    def __init__(self) -> None:
        self._rings: dict[str, _Ring] = {}
        self.n = 0

    def add(self, subject: str, data: bytes, headers: dict[str, str] | None, time_ns: int) -> None:
        """Keep one message (called for every message seen)."""
        ring = self._rings.get(subject)
        if ring is None:
            key = subject if len(self._rings) < MAX_RINGS else _OVERFLOW
            ring = self._rings.get(key)
            if ring is None:
                ring = self._rings[key] = _Ring()
        self.n += 1
        ring.count += 1
        ring.items.append(
            TailEntry(self.n, time_ns, subject, data[:KEEP_BYTES], len(data), headers)
        )

    def rings(self) -> list[tuple[str, _Ring]]:
        """Every ring, by subject (the overflow ring's key is empty)."""
        return list(self._rings.items())


class TailTake(NamedTuple):
    """What one watcher is shown now: messages oldest first, and how many it missed."""

    entries: list[TailEntry]
    skipped: int


class TailCursor:
    """One watcher: its filter, the newest message it has been offered, and per subject how
    many messages it has accounted for."""

    def __init__(self, pattern: str, buffer: TailBuffer) -> None:
        self.pattern = pattern
        self._after = buffer.n
        self._counted = {key: ring.count for key, ring in buffer.rings()}
        self._matches: dict[str, bool] = {}

    def _match(self, subject: str) -> bool:
        hit = self._matches.get(subject)
        if hit is None:
            if len(self._matches) > 4 * MAX_RINGS:
                self._matches.clear()
            hit = self._matches[subject] = subject_matches(self.pattern, subject)
        return hit

    def take(self, buffer: TailBuffer, limit: int) -> TailTake:
        """At most `limit` matching messages not offered before, every subject's newest first
        (then every subject's second newest, ...), and the count of the other matching ones
        that arrived since the last take."""
        by_subject: dict[str, list[TailEntry]] = {}
        arrived = 0
        for key, ring in buffer.rings():
            if key != _OVERFLOW and not self._match(key):
                self._counted[key] = ring.count
                continue
            new = [e for e in ring.items if e.n > self._after]
            if key == _OVERFLOW:
                new = [e for e in new if self._match(e.subject)]
                arrived += len(new)  # the overflow ring's count spans many subjects
            else:
                arrived += ring.count - self._counted.get(key, 0)
            self._counted[key] = ring.count
            for entry in new:
                by_subject.setdefault(entry.subject, []).append(entry)
        self._after = buffer.n
        shown = _round_robin(list(by_subject.values()), limit)
        return TailTake(shown, max(0, arrived - len(shown)))


def _round_robin(queues: list[list[TailEntry]], limit: int) -> list[TailEntry]:
    """Up to `limit` entries, newest of each queue first, busiest-recent queue first; in order
    of arrival."""
    queues.sort(key=lambda q: -q[-1].n)
    chosen: list[TailEntry] = []
    while len(chosen) < limit and queues:
        for queue in queues:
            chosen.append(queue.pop())
            if len(chosen) == limit:
                break
        queues = [q for q in queues if q]
    chosen.sort()
    return chosen
