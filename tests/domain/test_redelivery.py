"""A consumer process knows the redeliveries of messages it already processed."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from nats_pubsub.domain.redelivery import RecentDeliveries


def test_a_processed_message_is_known_in_its_stream_only() -> None:
    recent = RecentDeliveries()
    assert not recent.processed("EVENTS", 7)
    recent.add("EVENTS", 7)
    assert recent.processed("EVENTS", 7)
    assert not recent.processed("PAYMENTS", 7)
    assert not recent.processed("EVENTS", 8)


def test_memory_is_bounded_and_the_oldest_forgotten_first() -> None:
    recent = RecentDeliveries(capacity=3)
    for seq in (1, 2, 3, 4):
        recent.add("S", seq)
    assert len(recent) == 3
    assert [recent.processed("S", seq) for seq in (1, 2, 3, 4)] == [False, True, True, True]


@given(st.lists(st.integers(1, 50), max_size=200), st.integers(1, 20))
def test_it_remembers_exactly_the_last_distinct_ones_added(seqs: list[int], capacity: int) -> None:
    """Against a reference: the `capacity` most recently first-added sequences still present."""
    recent = RecentDeliveries(capacity)
    reference: list[int] = []
    for seq in seqs:
        recent.add("S", seq)
        if seq not in reference:
            reference.append(seq)
            del reference[:-capacity]
    assert {s for s in range(1, 51) if recent.processed("S", s)} == set(reference)
