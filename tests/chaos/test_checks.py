"""The chaos run's checks, each made to fail by the loss or duplicate it exists to catch."""

from __future__ import annotations

from nats_pubsub.chaos.checks import (
    acked_in_stream,
    core_balance,
    count_duplicates,
    counted_once,
    runs_complete,
    stored_once,
    stored_processed,
)
from nats_pubsub.chaos.facts import Ack, ConsumerRun, CoreReceipts, Delivery, PublisherRun, Stored


def _run(ids: list[str], requested: int | None = None, failed: int = 0, finished: bool = True):
    acks = tuple(Ack(msg_id, float(i)) for i, msg_id in enumerate(ids))
    errors = ("no stream stores this subject (no responders)",) * min(failed, 1)
    return PublisherRun("js", "r1", requested, acks, failed, errors, finished, 0, 0)


def _stored(*ids: str) -> list[Stored]:
    return [Stored(i + 1, "events.x", msg_id) for i, msg_id in enumerate(ids)]


def test_every_acked_message_must_be_stored() -> None:
    assert acked_in_stream([_run(["a@r", "b@r"])], _stored("a@r", "b@r", "c@r")).ok
    lost = acked_in_stream([_run(["a@r", "b@r"])], _stored("a@r"))
    assert not lost.ok
    assert "1 missing: b@r" in lost.detail


def test_no_message_may_be_stored_twice() -> None:
    assert stored_once(_stored("a@r", "b@r")).ok
    twice = stored_once(_stored("a@r", "b@r", "a@r", "a@r"))
    assert not twice.ok
    assert twice.detail.startswith("2 extra copies")


def test_a_finished_count_run_must_have_every_message_acked() -> None:
    assert runs_complete([_run(["a", "b"], requested=2)]).ok
    short = runs_complete([_run(["a"], requested=2, failed=1)])
    assert not short.ok
    assert "1 of 2 acked, 1 failed" in short.detail
    assert "no responders" in short.detail
    # A killed run (no final metrics) is not held to its count; its acks are checked elsewhere.
    assert runs_complete([_run(["a"], requested=2, finished=False)]).ok


def test_every_stored_message_must_be_processed_in_its_stream() -> None:
    stored = _stored("a", "b", "c")
    seen = [Delivery("sub", "EVENTS", seq, 1, False, 0.0) for seq in (1, 2, 3)]
    assert stored_processed("EVENTS", stored, seen).ok
    other_stream = [d._replace(stream="PAYMENTS") if d.seq == 2 else d for d in seen]
    missing = stored_processed("EVENTS", stored, other_stream)
    assert not missing.ok
    assert "1 of 3 never processed: 2" in missing.detail


def test_a_second_delivery_must_say_it_is_one() -> None:
    first = Delivery("sub-a", "EVENTS", 7, 1, False, 1.0)
    redelivered = Delivery("sub-b", "EVENTS", 7, 2, False, 2.0)
    flagged = Delivery("sub-a", "EVENTS", 7, 1, True, 3.0)
    silent = Delivery("sub-b", "EVENTS", 7, 1, False, 4.0)
    assert count_duplicates([first, redelivered, flagged]) == (2, 0, ())
    counted = count_duplicates([silent, first, redelivered])  # the first by time is `first`
    assert counted.duplicates == 2
    assert counted.unreported == 1
    assert counted.examples == ("EVENTS:7 again in sub-b",)
    # The same sequence in two streams is two messages.
    assert count_duplicates([first, first._replace(stream="PAYMENTS")]).duplicates == 0


def test_core_received_plus_reported_lost_must_equal_sent() -> None:
    sent = range(1, 11)
    balanced = CoreReceipts((1, 2, 3, 5, 6, 7, 8, 9, 10, 10), 1, 1, True, ())
    assert core_balance(sent, balanced).ok
    unreported = CoreReceipts((1, 2, 3, 5, 6, 7, 8, 9, 10), 0, 0, True, ())
    check = core_balance(sent, unreported)
    assert not check.ok
    assert check.detail == "sent 10, received 9, reported lost 0"
    assert not core_balance(sent, balanced._replace(finished=False)).ok


def test_a_consumer_must_not_count_a_redelivered_message_twice() -> None:
    first = Delivery("sub", "EVENTS", 1, 1, False, 1.0)
    again = Delivery("sub", "EVENTS", 1, 2, False, 2.0)  # the same process got it again
    flagged = again._replace(duplicate=True)
    other = Delivery("sub", "EVENTS", 2, 1, False, 3.0)
    assert counted_once([ConsumerRun("sub", 1, (first, flagged, other), 2)]).ok
    twice = counted_once([ConsumerRun("sub", 1, (first, again, other), 3)])
    assert not twice.ok
    assert twice.detail == "sub #1 counted 3, processed 2"
    assert counted_once([ConsumerRun("sub", 2, (first, again), None)]).ok  # killed: no count
