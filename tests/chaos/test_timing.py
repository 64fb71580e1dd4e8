"""Stalls and recoveries computed from the services' timestamps."""

from __future__ import annotations

from nats_pubsub.chaos.timing import (
    NodeEvent,
    QuorumWindow,
    longest_gap,
    quorum_windows,
    time_to_progress,
)


def test_longest_gap_between_acks() -> None:
    assert longest_gap([]) == (0.0, 0.0)
    assert longest_gap([5.0]) == (0.0, 5.0)
    assert longest_gap([3.0, 1.0, 1.5, 7.5, 8.0]) == (4.5, 3.0)


def test_time_to_first_progress_after_a_moment() -> None:
    times = [1.0, 2.0, 6.0]
    assert time_to_progress(times, 2.0) == 0.0
    assert time_to_progress(times, 2.5) == 3.5
    assert time_to_progress(times, 6.5) is None


def test_quorum_is_lost_below_a_majority_and_returns_with_it() -> None:
    events = [
        NodeEvent(1.0, "n1", False),  # one down: a majority is left
        NodeEvent(2.0, "n2", False),  # two down: lost
        NodeEvent(3.0, "n1", True),  # back to two: returned
        NodeEvent(4.0, "n2", True),
        NodeEvent(6.0, "n3", False),
        NodeEvent(5.0, "n2", False),  # out of order on purpose: sorted by time
    ]
    assert quorum_windows(events, ["n1", "n2", "n3"]) == [
        QuorumWindow(2.0, 3.0),
        QuorumWindow(6.0, None),
    ]
