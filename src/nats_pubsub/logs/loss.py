"""A subscriber's loss records: sequence verdicts as counters and once-per-burst WARNING records."""

from __future__ import annotations

import time
from typing import Any

from nats_pubsub.domain.sequencing import BurstReport, SequenceTracker, Verdict
from nats_pubsub.logs.logger import Logger

__all__ = ["LossWatch"]

# Each verdict worth a warning: (record text, field holding the count since the last record).
_RECORDS = {
    Verdict.GAP: ("Messages lost", "lost"),
    Verdict.DUPLICATE: ("Duplicate messages", "duplicates"),
    Verdict.OUT_OF_ORDER: ("Messages out of order", "out_of_order"),
}


class LossWatch:
    """Feeds each received event's (source, sequence) to a tracker and reports what it finds.

    A burst of losses becomes one `Messages lost` record at once and then at most one per source
    per `interval` seconds, each with the count since the previous one; totals are in the tracker
    (and so in the metrics records).
    """

    def __init__(self, log: Logger, tracker: SequenceTracker, interval: float = 1.0) -> None:
        self._log = log
        self.tracker = tracker
        self._bursts = BurstReport(interval)
        self._advance = tracker.advance
        self.held = self._bursts.held  # counts held back for a later record (read only)

    def observe(self, fields: dict[str, Any]) -> None:
        """Look at one `Message received` record's fields (events only: they carry a sequence)."""
        source, sequence = fields.get("source"), fields.get("sequence")
        if isinstance(source, str) and isinstance(sequence, int):
            self.observe_event(source, sequence)

    def observe_event(self, source: str, sequence: int) -> None:
        """Look at one received event's source and sequence number.

        A hot path may instead call `tracker.advance` itself and, when it took the sequence,
        `report_due()` only while `held` is not empty: the same, with fewer calls.
        """
        if self._advance(source, sequence):
            if self.held:
                self.report_due()
            return  # the common case: next in sequence
        verdict, missing = self.tracker.observe(source, sequence)
        if verdict in _RECORDS:
            count = self._bursts.add(f"{verdict}|{source}", missing or 1, time.monotonic())
            if count is not None:
                self._record(verdict, source, count, sequence)
        elif verdict is Verdict.RESTART:
            self._log.info("Source restarted its sequence", source=source)
        if self.held:
            self.report_due()

    def report_due(self) -> None:
        """Write the records of held counts whose interval has passed."""
        for key, count in self._bursts.due(time.monotonic()).items():
            held, _, held_source = key.partition("|")
            self._record(Verdict(held), held_source, count, None)

    def flush(self) -> None:
        """Report every count still held back (at shutdown)."""
        for key, count in self._bursts.drain().items():
            held, _, source = key.partition("|")
            self._record(Verdict(held), source, count, None)

    def _record(self, verdict: Verdict, source: str, count: int, sequence: int | None) -> None:
        text, field = _RECORDS[verdict]
        self._log.warning(
            text,
            source=source,
            **{field: count, f"total_{field}": getattr(self.tracker, field)},
            at_sequence=sequence,
        )
