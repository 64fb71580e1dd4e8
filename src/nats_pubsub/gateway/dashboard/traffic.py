"""Message counts per subject, second by second, over the last five minutes (pure).

`count` runs once per message seen, so it is one dictionary update; `close_second` folds the
second into the history and the running totals. Subjects are bounded: past MAX_SUBJECTS distinct
ones in a second (or in the totals) the rest are counted under OTHER, so a flood of one-off
subjects cannot grow memory without end.
"""

from __future__ import annotations

from collections import deque
from typing import Final

import msgspec

__all__ = ["HISTORY_SECONDS", "MAX_SUBJECTS", "OTHER", "Second", "Traffic", "is_published"]

HISTORY_SECONDS: Final = 300
MAX_SUBJECTS: Final = 200
OTHER: Final = "(other)"


def is_published(subject: str, reply: str) -> bool:
    """True for a message someone published; False for NATS's own plumbing (`$JS.…`,
    `$SRV.…`, replies on `_INBOX.…`) and for a stream delivering a stored message again to a
    consumer (its reply is a `$JS.ACK.…` subject), which a `>` subscription also sees."""
    return subject[:1] != "$" and not subject.startswith("_INBOX.") and reply[:8] != "$JS.ACK."


class Second(msgspec.Struct, frozen=True):
    """One second of traffic: its epoch second, messages per subject, and bytes in all."""

    t: int
    subjects: dict[str, int]
    bytes: int


class Traffic:
    """Counts for the second under way, the last five minutes of seconds, and totals."""

    __slots__ = ("_bytes", "_counts", "history", "total_bytes", "total_messages", "totals")

    def __init__(self) -> None:
        self._counts: dict[str, int] = {}
        self._bytes = 0
        self.history: deque[Second] = deque(maxlen=HISTORY_SECONDS)
        self.totals: dict[str, int] = {}
        self.total_messages = 0
        self.total_bytes = 0

    def count(self, subject: str, size: int) -> None:
        """One message of `size` bytes on `subject`."""
        counts = self._counts
        n = counts.get(subject)
        if n is None:
            if len(counts) >= MAX_SUBJECTS:
                subject = OTHER
                n = counts.get(OTHER, 0)
            else:
                n = 0
        counts[subject] = n + 1
        self._bytes += size

    def close_second(self, t: int) -> Second:
        """End the second under way as epoch second `t`: kept in the history, added up."""
        second = Second(t, self._counts, self._bytes)
        self._counts, self._bytes = {}, 0
        self.history.append(second)
        totals = self.totals
        for subject, n in second.subjects.items():
            if subject not in totals and len(totals) >= MAX_SUBJECTS:
                subject = OTHER
            totals[subject] = totals.get(subject, 0) + n
            self.total_messages += n
        self.total_bytes += second.bytes
        return second
