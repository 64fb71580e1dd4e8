"""The fault schedule: reproducible from its seed, and never more than the cluster can bear."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nats_pubsub.chaos.schedule import NODE_KINDS, REJOIN_SECONDS, Fault, FaultKind, plan

SERVICES = ("js-publisher", "fast-publisher", "payments", "subscriber-a", "subscriber-b")
STREAMS = ("EVENTS", "PAYMENTS")


def _plan(seed: int, duration: float = 300.0, partition: bool = False) -> list[Fault]:
    return plan(seed, duration, services=SERVICES, streams=STREAMS, partition=partition)


def _impaired(faults: list[Fault], at: float) -> set[str]:
    """Nodes a planned node fault holds at `at` (a leader kill: an unknown one, named '?')."""
    held: set[str] = set()
    for fault in faults:
        if fault.kind in NODE_KINDS and fault.at <= at < fault.at + fault.hold + REJOIN_SECONDS:
            if fault.kind in (FaultKind.KILL_META_LEADER, FaultKind.KILL_STREAM_LEADER):
                held.add(f"?{fault.at}")
            else:
                held.update(fault.target.split("+"))
    return held


def test_same_seed_same_schedule_other_seed_another() -> None:
    assert _plan(7) == _plan(7)
    assert _plan(7) != _plan(8)


def test_five_minutes_bring_at_least_sixty_faults_of_every_kind() -> None:
    """The soak's target: 60 faults or more in 300 s, each kind among them."""
    for seed in range(20):
        faults = _plan(seed, partition=True)
        assert len(faults) >= 60, seed
        assert set(Counter(f.kind for f in faults)) == set(FaultKind), seed


def test_partitions_only_when_asked() -> None:
    assert all(f.kind is not FaultKind.PARTITION_NODE for s in range(20) for f in _plan(s))


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32), partition=st.booleans())
def test_never_more_than_two_nodes_impaired(seed: int, partition: bool) -> None:
    """A majority is lost at most for a while; the third node is never touched meanwhile, and a
    leader kill (its node unknown until it happens) is the only node fault while it lasts."""
    faults = _plan(seed, duration=120.0, partition=partition)
    for fault in faults:
        held = _impaired(faults, fault.at)
        assert len(held) <= 2, (fault, held)
        if any(name.startswith("?") for name in held):
            assert len(held) == 1, (fault, held)


@pytest.mark.parametrize("seed", range(10))
def test_faults_are_in_time_order_within_the_duration(seed: int) -> None:
    faults = _plan(seed, duration=60.0)
    assert [f.at for f in faults] == sorted(f.at for f in faults)
    assert all(0 < f.at < 60.0 and f.hold > 0 for f in faults)
    assert all(f.target in SERVICES for f in faults if f.kind is FaultKind.KILL_SERVICE)
    assert all(f.target in STREAMS for f in faults if f.kind is FaultKind.KILL_STREAM_LEADER)
    quorum = [f for f in faults if f.kind is FaultKind.LOSE_QUORUM]
    assert all(len(set(f.target.split("+"))) == 2 for f in quorum)


def test_a_killed_service_is_not_killed_again_before_it_is_back() -> None:
    for seed in range(20):
        last: dict[str, float] = {}
        for fault in _plan(seed):
            if fault.kind is FaultKind.KILL_SERVICE:
                assert fault.at >= last.get(fault.target, -1.0), (seed, fault)
                last[fault.target] = fault.at + fault.hold
