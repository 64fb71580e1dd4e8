"""The dashboard's pure aggregation: per-second traffic, payments, the tail's sampling."""

from __future__ import annotations

import msgspec

from nats_pubsub.domain.transactions import DeclinedTransaction, TransactionFactory
from nats_pubsub.gateway.dashboard import tail as tail_mod
from nats_pubsub.gateway.dashboard import traffic as traffic_mod
from nats_pubsub.gateway.dashboard.payments import LAST_DECLINES, PaymentWatch
from nats_pubsub.gateway.dashboard.tail import TailBuffer, TailCursor
from nats_pubsub.gateway.dashboard.traffic import OTHER, Traffic, is_published


def test_published_messages_are_told_from_plumbing_and_redeliveries() -> None:
    assert is_published("events.test", "")
    assert is_published("events.test", "_INBOX.abc.1")  # a JetStream publish awaiting its ack
    assert not is_published("$SRV.STATS", "_INBOX.x")
    assert not is_published("$JS.API.INFO", "_INBOX.x")
    assert not is_published("_INBOX.abc.def", "")
    assert not is_published("events.test", "$JS.ACK.EVENTS.c.1.5.5.1796473111466381929.0")


def test_a_second_is_counted_per_subject_and_added_to_the_totals() -> None:
    traffic = Traffic()
    for _ in range(3):
        traffic.count("events.test", 100)
    traffic.count("payments.x", 10)
    second = traffic.close_second(1000)
    assert second.t == 1000
    assert second.subjects == {"events.test": 3, "payments.x": 1}
    assert second.bytes == 310
    traffic.count("events.test", 1)
    traffic.close_second(1001)
    assert traffic.totals == {"events.test": 4, "payments.x": 1}
    assert traffic.total_messages == 5
    assert traffic.total_bytes == 311
    assert [s.t for s in traffic.history] == [1000, 1001]
    assert traffic.close_second(1002).subjects == {}  # a quiet second is still a second


def test_subjects_past_the_limit_are_counted_as_other(monkeypatch: object) -> None:
    traffic = Traffic()
    limit = traffic_mod.MAX_SUBJECTS
    for i in range(limit + 50):
        traffic.count(f"s.{i}", 1)
    second = traffic.close_second(1)
    assert len(second.subjects) == limit + 1
    assert second.subjects[OTHER] == 50
    assert sum(second.subjects.values()) == limit + 50
    for i in range(limit, limit + 10):  # new subjects later: the totals stay bounded too
        traffic.count(f"t.{i}", 1)
    traffic.close_second(2)
    assert len(traffic.totals) == limit + 1
    assert traffic.total_messages == limit + 60


def test_the_history_keeps_five_minutes() -> None:
    traffic = Traffic()
    for t in range(400):
        traffic.close_second(t)
    assert len(traffic.history) == 300
    assert traffic.history[0].t == 100


def _payment(declined: bool, number: int = 1) -> bytes:
    factory = TransactionFactory("payment-publisher", seed=number)
    return msgspec.json.encode(factory.next("2026-01-01T00:00:00Z", declined))


def test_payments_count_by_subject_and_list_declines_with_their_reason() -> None:
    watch = PaymentWatch()
    watch.see("payments.credit_card.accepted", _payment(False), 1_000_000_000)
    watch.see("payments.credit_card.accepted", b"not even json", 1_000_000_000)
    declined = _payment(True, 7)
    watch.see("payments.credit_card.declined", declined, 2_000_000_000)
    second, fresh = watch.close_second(1)
    assert (second.accepted, second.declined) == (2, 1)
    txn = msgspec.json.decode(declined, type=DeclinedTransaction)
    assert len(fresh) == 1
    decline = fresh[0]
    assert decline.level == "ERROR"
    assert decline.transaction_id == txn.transaction_id
    assert decline.reason == txn.decline_reason
    assert decline.code == txn.decline_code
    assert decline.amount == txn.amount
    assert decline.currency == "USD"
    assert decline.received == "1970-01-01T00:00:02.000000Z"
    totals = watch.totals()
    assert (totals.accepted, totals.declined, totals.decline_rate) == (2, 1, 0.3333)
    assert watch.close_second(2)[1] == []  # each decline is news once


def test_payments_by_status_failures_and_unreadable_ones() -> None:
    watch = PaymentWatch()
    watch.see("payments.other", b'{"status": "approved", "amount": 5}', 0)
    watch.see("payments.other", b'{"status": "declined", "decline_reason": "x"}', 0)
    watch.see("payments.other", b'{"status": "failed", "error": "gateway timeout"}', 0)
    watch.see("payments.other", b"\xff\xfe broken", 0)
    watch.see("payments.other", b'{"status": "pending"}', 0)
    second, fresh = watch.close_second(1)
    assert (second.accepted, second.declined) == (1, 1)
    assert [(d.level, d.reason) for d in fresh] == [
        ("ERROR", "x"),
        ("ERROR", "gateway timeout"),
        ("WARNING", ""),
    ]


def test_only_the_last_declines_are_kept() -> None:
    watch = PaymentWatch()
    for n in range(LAST_DECLINES + 5):
        watch.see("payments.credit_card.declined", b'{"transaction_id": "T%d"}' % n, 0)
    assert len(watch.last) == LAST_DECLINES
    assert watch.last[-1].transaction_id == f"T{LAST_DECLINES + 4}"


def test_a_tail_gets_at_most_its_limit_of_the_newest_and_counts_the_rest() -> None:
    buffer = TailBuffer()
    cursor = TailCursor(">", buffer)
    for n in range(100):
        buffer.add("events.test", b"%d" % n, None, n)
    taken = cursor.take(buffer, 10)
    assert [e.data for e in taken.entries] == [b"%d" % n for n in range(92, 100)]
    assert taken.skipped == 92  # the ring holds the newest 8: they are what is shown
    again = cursor.take(buffer, 10)
    assert again.entries == []
    assert again.skipped == 0


def test_a_rare_subject_is_not_drowned_by_a_busy_one() -> None:
    buffer = TailBuffer()
    cursor = TailCursor("payments.>", buffer)
    busy = TailCursor(">", buffer)
    buffer.add("payments.credit_card.declined", b"rare", {"Nats-Msg-Id": "x"}, 1)
    for n in range(10_000):
        buffer.add("events.test", b"busy", None, n)
    taken = cursor.take(buffer, 10)
    assert [(e.subject, e.data, e.headers) for e in taken.entries] == [
        ("payments.credit_card.declined", b"rare", {"Nats-Msg-Id": "x"})
    ]
    assert taken.skipped == 0
    everything = busy.take(buffer, 3)
    assert len(everything.entries) == 3
    assert everything.skipped == 10_001 - 3
    assert [e.n for e in everything.entries] == sorted(e.n for e in everything.entries)


def test_a_new_tail_starts_from_now_and_payloads_are_kept_bounded() -> None:
    buffer = TailBuffer()
    buffer.add("a.b", b"old", None, 0)
    cursor = TailCursor("a.*", buffer)
    big = b"x" * (tail_mod.KEEP_BYTES * 3)
    buffer.add("a.c", big, None, 1)
    taken = cursor.take(buffer, 10)
    assert [(e.subject, e.size, len(e.data)) for e in taken.entries] == [
        ("a.c", len(big), tail_mod.KEEP_BYTES)
    ]


def test_subjects_past_the_ring_limit_share_one_ring_and_still_match() -> None:
    buffer = TailBuffer()
    for i in range(tail_mod.MAX_RINGS):
        buffer.add(f"fill.{i}", b"", None, 0)
    cursor = TailCursor("late.*", buffer)
    buffer.add("late.one", b"1", None, 0)
    buffer.add("other.one", b"2", None, 0)
    taken = cursor.take(buffer, 10)
    assert [e.subject for e in taken.entries] == ["late.one"]
    assert len(buffer.rings()) == tail_mod.MAX_RINGS + 1


def test_every_subject_gets_its_turn_in_a_tail() -> None:
    """One tail on everything: a quiet subject's message is shown beside a busy one's newest."""
    buffer = TailBuffer()
    cursor = TailCursor(">", buffer)
    buffer.add("events.dashboard", b"mine", None, 0)
    for n in range(50):
        buffer.add("events.test", b"%d" % n, None, n)
        buffer.add("payments.x", b"%d" % n, None, n)
    taken = cursor.take(buffer, 5)
    assert [(e.subject, e.data) for e in taken.entries] == [
        ("events.dashboard", b"mine"),
        ("events.test", b"48"),
        ("payments.x", b"48"),
        ("events.test", b"49"),
        ("payments.x", b"49"),
    ]
    assert taken.skipped == 101 - 5
