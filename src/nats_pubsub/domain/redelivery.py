"""Which JetStream redeliveries a consumer process has already processed (pure, bounded).

JetStream delivers at least once: a message whose ack was lost or came late (a frozen or
restarted node, an ack wait that ran out) is delivered again, to this consumer or to another
one bound to the same durable. A consumer process remembers the stream sequences it processed
lately, so a redelivery of one of them is known for a duplicate: acked again, reported, and not
processed or counted a second time. One it never processed (another process did, or an earlier
run of this one) is processed, and says it is a redelivery.
"""

from __future__ import annotations

from typing import Final

__all__ = ["MAX_REMEMBERED", "RecentDeliveries"]

MAX_REMEMBERED: Final = 65_536  # stream sequences remembered, the oldest forgotten first


class RecentDeliveries:
    """The (stream, sequence) pairs processed lately, at most `capacity` of them."""

    __slots__ = ("_seen", "capacity")

    def __init__(self, capacity: int = MAX_REMEMBERED) -> None:
        self.capacity = capacity
        self._seen: dict[tuple[str, int], None] = {}  # insertion order: oldest first

    def __len__(self) -> int:
        return len(self._seen)

    def processed(self, stream: str, sequence: int) -> bool:
        """True when this process already processed the message at `sequence` of `stream`."""
        return (stream, sequence) in self._seen

    def add(self, stream: str, sequence: int) -> None:
        """Remember that the message at `sequence` of `stream` was processed."""
        seen = self._seen
        seen[stream, sequence] = None
        if len(seen) > self.capacity:
            del seen[next(iter(seen))]
