"""Sequence tracking and burst summaries: the pure logic that makes loss visible."""

from __future__ import annotations

import io
import json
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nats_pubsub.domain.sequencing import BurstReport, SequenceTracker, Verdict
from nats_pubsub.logs import loss
from nats_pubsub.logs.logger import Logger, LogSink
from nats_pubsub.logs.loss import LossWatch


def test_consecutive_sequences_are_next() -> None:
    """1, 2, 3 from one source: first, then next, nothing counted."""
    tracker = SequenceTracker()
    verdicts = [tracker.observe("a", n)[0] for n in (1, 2, 3)]
    assert verdicts == [Verdict.FIRST, Verdict.NEXT, Verdict.NEXT]
    assert tracker.snapshot()["lost"] == 0


def test_gap_counts_the_missing_sequences_as_lost() -> None:
    """1 then 5: three lost, reported with the gap."""
    tracker = SequenceTracker()
    tracker.observe("a", 1)
    assert tracker.observe("a", 5) == (Verdict.GAP, 3)
    assert tracker.lost == 3


def test_late_message_moves_from_lost_to_out_of_order() -> None:
    """1, 3, 2: the gap is filled late, so lost goes back to 0 and one is out of order."""
    tracker = SequenceTracker()
    for n in (1, 3):
        tracker.observe("a", n)
    assert tracker.observe("a", 2)[0] is Verdict.OUT_OF_ORDER
    assert (tracker.lost, tracker.out_of_order) == (0, 1)


def test_repeat_is_a_duplicate() -> None:
    """A sequence seen before (and not missing) is a duplicate."""
    tracker = SequenceTracker()
    for n in (1, 2, 3):
        tracker.observe("a", n)
    assert tracker.observe("a", 2)[0] is Verdict.DUPLICATE
    assert tracker.duplicates == 1


def test_sequence_one_again_is_a_restart() -> None:
    """A source that numbers from 1 again restarted: not a duplicate, not loss."""
    tracker = SequenceTracker()
    for n in (1, 2, 3):
        tracker.observe("a", n)
    assert tracker.observe("a", 1)[0] is Verdict.RESTART
    assert tracker.observe("a", 2)[0] is Verdict.NEXT
    assert tracker.snapshot() == {
        "lost": 0,
        "duplicates": 0,
        "out_of_order": 0,
        "source_restarts": 1,
        "tracked_sources": 1,
        "sources_evicted": 0,
    }


def test_sources_are_tracked_separately() -> None:
    """Each source has its own numbering."""
    tracker = SequenceTracker()
    tracker.observe("a", 1)
    assert tracker.observe("b", 7)[0] is Verdict.FIRST
    assert tracker.observe("a", 2)[0] is Verdict.NEXT


# Sequences up to 120 keep the open gaps under the 64 remembered per source.
@given(order=st.lists(st.integers(1, 120), min_size=1, max_size=400).map(lambda xs: [1, *xs]))
def test_received_plus_lost_is_the_highest_sequence(order: list[int]) -> None:
    """Any arrival order, drops and repeats (no restarts): distinct received + lost = highest."""
    tracker = SequenceTracker()
    seen: set[int] = set()
    highest = 0
    for n in order:
        if n == 1 and highest > 1:
            continue  # sequence 1 again would be a restart; covered elsewhere
        tracker.observe("s", n)
        seen.add(n)
        highest = max(highest, n)
    assert len(seen) + tracker.lost == highest
    assert tracker.lost >= 0


@given(events=st.lists(st.tuples(st.text(max_size=5), st.integers(-(2**63), 2**63)), max_size=200))
def test_tracker_never_raises(events: list[tuple[str, int]]) -> None:
    """Any sources and sequence numbers (even negative or huge) are classified, never an error."""
    tracker = SequenceTracker()
    for source, sequence in events:
        verdict, missing = tracker.observe(source, sequence)
        assert isinstance(verdict, Verdict)
        assert missing >= 0


def test_burst_reports_first_event_at_once() -> None:
    """The first event of a key is reported immediately."""
    assert BurstReport(1.0).add("k", 3, now=10.0) == 3


def test_burst_holds_events_within_the_interval() -> None:
    """Events within the interval are held and reported together once it has passed."""
    burst = BurstReport(1.0)
    burst.add("k", 1, now=10.0)
    assert burst.add("k", 2, now=10.5) is None
    assert burst.add("k", 4, now=10.9) is None
    assert burst.due(now=10.95) == {}
    assert burst.due(now=11.0) == {"k": 6}
    assert not burst.holding


def test_burst_drain_releases_everything() -> None:
    """At shutdown every held count is released."""
    burst = BurstReport(1.0)
    burst.add("a", 1, now=0.0)
    burst.add("a", 5, now=0.1)
    assert burst.drain() == {"a": 5}


@given(
    steps=st.lists(st.tuples(st.integers(1, 50), st.floats(0, 3)), max_size=100),
)
def test_burst_never_loses_a_count(steps: list[tuple[int, float]]) -> None:
    """Reported plus drained counts always equal what was added."""
    burst = BurstReport(1.0)
    now, reported = 0.0, 0
    for count, step in steps:
        now += step
        reported += burst.add("k", count, now) or 0
        reported += sum(burst.due(now).values())
    reported += sum(burst.drain().values())
    assert reported == sum(count for count, _ in steps)


@given(
    steps=st.lists(
        st.tuples(st.sampled_from("abcdefgh"), st.integers(1, 50), st.floats(0, 3)), max_size=200
    ),
)
def test_burst_with_many_keys_never_loses_a_count(steps: list[tuple[str, int, float]]) -> None:
    """With few remembered keys (forgetting old report times) no count is lost either."""
    burst = BurstReport(1.0, max_keys=2)
    now, reported = 0.0, 0
    for key, count, step in steps:
        now += step
        reported += burst.add(key, count, now) or 0
        reported += sum(burst.due(now).values())
    reported += sum(burst.drain().values())
    assert reported == sum(count for _, count, _ in steps)


def test_burst_forgets_old_report_times() -> None:
    """A new key each second: the report times kept stay near `max_keys`, not the history."""
    burst = BurstReport(1.0, max_keys=100)
    for second in range(10_000):
        assert burst.add(f"source-{second}", 1, now=float(second)) == 1
    assert len(burst._last) <= 100


def test_tracker_keeps_at_most_max_sources() -> None:
    """200,000 sources through a tracker of 1,000: 1,000 tracked, the rest evicted, counted."""
    tracker = SequenceTracker(max_sources=1_000)
    for n in range(200_000):
        tracker.observe(f"source-{n}", 1)
    snap = tracker.snapshot()
    assert snap["tracked_sources"] == 1_000
    assert snap["sources_evicted"] == 199_000
    assert len(tracker._order) == 1_000


def test_eviction_spares_the_sources_seen_lately() -> None:
    """The least recently seen source goes first: one that keeps sending is never evicted."""
    tracker = SequenceTracker(max_sources=3)
    tracker.observe("steady", 1)
    sequence = 1
    for n in range(50):
        sequence += 1
        assert tracker.advance("steady", sequence)  # seen before each newcomer
        tracker.observe(f"once-{n}", 1)
    assert tracker.evicted == 48
    sequence += 1
    assert tracker.advance("steady", sequence)  # still followed: next in sequence
    assert tracker.observe("once-0", 1)[0] is Verdict.FIRST  # forgotten: starts afresh


def test_an_evicted_source_starts_afresh() -> None:
    """A source evicted and back again is FIRST (no loss counted for what it sent meanwhile)."""
    tracker = SequenceTracker(max_sources=1)
    tracker.observe("a", 1)
    tracker.observe("b", 1)  # evicts a
    assert tracker.observe("a", 10) == (Verdict.FIRST, 0)
    assert tracker.lost == 0


def _watch() -> tuple[LossWatch, io.BytesIO]:
    stream = io.BytesIO()
    return LossWatch(Logger("test", LogSink(stream)), SequenceTracker(), interval=60.0), stream


def _records(stream: io.BytesIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_loss_watch_summarises_a_burst_in_one_record() -> None:
    """Many gaps within the interval: one `Messages lost` at once, the rest at flush."""
    watch, stream = _watch()
    for n in range(1, 100, 2):  # every other message lost
        watch.observe({"source": "p", "sequence": n})
    watch.flush()
    lost = [r for r in _records(stream) if r["message"] == "Messages lost"]
    assert [r["level"] for r in lost] == ["WARNING", "WARNING"]
    assert sum(r["lost"] for r in lost) == watch.tracker.lost == 49


def test_loss_watch_ignores_messages_without_a_sequence() -> None:
    """Payments (no sequence) and odd fields are skipped."""
    watch, stream = _watch()
    watch.observe({"source": "p", "transaction_id": "x"})
    watch.observe({"source": 3, "sequence": "1"})
    assert stream.getvalue() == b""


def test_advance_takes_only_the_next_sequence() -> None:
    """`advance` records the next sequence of a known source; anything else is left to observe."""
    tracker = SequenceTracker()
    assert not tracker.advance("p", 1)  # unknown source: nothing recorded
    assert tracker.observe("p", 1) == (Verdict.FIRST, 0)
    assert tracker.advance("p", 2)
    assert not tracker.advance("p", 2)  # a duplicate is not taken
    assert not tracker.advance("p", 5)  # nor a gap
    assert tracker.observe("p", 5) == (Verdict.GAP, 2)
    assert (tracker.lost, tracker.duplicates) == (2, 0)


def test_held_losses_are_reported_once_due(monkeypatch: pytest.MonkeyPatch) -> None:
    """A held count is written by the next in-sequence message once its interval has passed."""
    clock = [100.0]
    monkeypatch.setattr(loss, "time", SimpleNamespace(monotonic=lambda: clock[0]))
    stream = io.BytesIO()
    watch = LossWatch(Logger("test", LogSink(stream)), SequenceTracker(), interval=1.0)
    for n in (1, 3, 5):  # two gaps: the first reported at once, the second held
        watch.observe_event("p", n)
    assert sum(watch.held.values()) == 1  # held back, not yet written
    watch.observe_event("p", 6)
    assert len(_records(stream)) == 1  # not due yet
    clock[0] += 1.5
    watch.observe_event("p", 7)
    lost = [r["lost"] for r in _records(stream) if r["message"] == "Messages lost"]
    assert lost == [1, 1]
    assert not watch.held
