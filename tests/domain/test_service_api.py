"""The NATS service API's answers read back, and the book of who answered when (pure)."""

from __future__ import annotations

import msgspec
import pytest

from nats_pubsub.domain.service_api import (
    FORGET_AFTER,
    GONE_AFTER,
    ServiceBook,
    ServiceSeen,
    parse_stats,
    service_counters,
    status_subject,
)

STATS = {
    "type": "io.nats.micro.v1.stats_response",
    "name": "nats-pubsub-payments",
    "id": "Zx9",
    "version": "0.1.0",
    "started": "2026-01-01T00:00:00.000Z",
    "metadata": {"hostname": "payment-publisher"},
    "endpoints": [
        {
            "name": "status",
            "subject": "nats-pubsub.status.nats-pubsub-payments.Zx9",
            "queue_group": "q",
            "num_requests": 0,
            "num_errors": 0,
            "processing_time": 0,
            "average_processing_time": 0,
            "data": {"accepted": 10, "declined": 2, "nested": {"no": 1}},
        }
    ],
}


def test_a_stats_answer_is_read_with_its_counters() -> None:
    seen = parse_stats(msgspec.json.encode(STATS))
    assert seen == ServiceSeen(
        name="nats-pubsub-payments",
        id="Zx9",
        version="0.1.0",
        started="2026-01-01T00:00:00.000Z",
        metadata={"hostname": "payment-publisher"},
        stats={"accepted": 10, "declined": 2},  # scalars only
    )


def test_a_ping_answer_is_read_too() -> None:
    ping = {"type": "io.nats.micro.v1.ping_response", "name": "x", "id": "1", "version": "1.0.0"}
    seen = parse_stats(msgspec.json.encode(ping))
    assert seen is not None
    assert (seen.name, seen.id, seen.stats, seen.metadata) == ("x", "1", {}, {})


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"not json",
        b"[1, 2]",
        b'{"name": "x"}',
        b'{"id": "x"}',
        b'{"name": 5, "id": "x"}',
        b'{"name": "", "id": "x"}',
        b"[" * 10_000,
    ],
)
def test_anything_else_is_not_a_service(data: bytes) -> None:
    assert parse_stats(data) is None


def test_odd_fields_are_read_as_far_as_they_go() -> None:
    odd = {"name": "x", "id": "1", "version": 3, "metadata": [1], "endpoints": [5, {"data": 3}]}
    seen = parse_stats(msgspec.json.encode(odd))
    assert seen == ServiceSeen(name="x", id="1", version="")


def test_a_service_that_stops_answering_is_gone_then_forgotten() -> None:
    book = ServiceBook()
    seen = parse_stats(msgspec.json.encode(STATS))
    assert seen is not None
    started_ns = 1767225600 * 10**9  # 2026-01-01T00:00:00Z
    book.record([seen], now=100.0, now_ns=started_ns + 60 * 10**9)
    (row,) = book.rows(100.5, started_ns + int(60.5 * 10**9))
    assert (row.status, row.hostname, row.uptime_seconds) == ("up", "payment-publisher", 60.5)
    assert row.stats == {"accepted": 10, "declined": 2}
    book.record([], now=100.0 + GONE_AFTER + 1, now_ns=0)
    (row,) = book.rows(100.0 + GONE_AFTER + 1, started_ns + 70 * 10**9)
    assert row.status == "gone"
    assert row.uptime_seconds == 60.0  # stopped at its last answer
    assert row.last_seen_seconds == GONE_AFTER + 1
    book.record([], now=100.0 + FORGET_AFTER + 1, now_ns=0)
    assert book.rows(100.0 + FORGET_AFTER + 1, 0) == []


def test_rows_list_running_services_first() -> None:
    book = ServiceBook()
    a = ServiceSeen(name="b-service", id="1", version="1")
    b = ServiceSeen(name="a-service", id="2", version="1")
    book.record([a], now=0.0, now_ns=0)
    book.record([b], now=10.0, now_ns=0)
    assert [(r.name, r.status) for r in book.rows(10.0, 0)] == [
        ("a-service", "up"),
        ("b-service", "gone"),
    ]


def test_the_status_endpoint_subject() -> None:
    assert (
        status_subject("nats-pubsub-gateway", "abc") == "nats-pubsub.status.nats-pubsub-gateway.abc"
    )


def test_each_service_shows_its_own_counters() -> None:
    from nats_pubsub.domain.capture import SubjectStats
    from nats_pubsub.domain.stats import ConsumeStats, PublishStats, ReceiveStats
    from nats_pubsub.domain.transactions import PaymentStats, TransactionFactory

    publish = PublishStats(jetstream=True)
    publish.published, publish.published_bytes, publish.errors, publish.duplicates = 9, 900, 1, 2
    assert service_counters(publish=publish) == {
        "published": 9,
        "published_bytes": 900,
        "publish_errors": 1,
        "duplicates": 2,
    }
    payments = PaymentStats(started=0.0)
    factory = TransactionFactory("p", seed=1)
    for declined in (True, False, False, False):
        payments.count(factory.next("2026-01-01T00:00:00Z", declined))
    assert service_counters(payments=payments) == {
        "accepted": 3,
        "declined": 1,
        "decline_rate": 0.25,
        "publish_errors": 0,
    }
    receive, consume = ReceiveStats(), ConsumeStats()
    receive.valid, consume.acked = 3, 3
    found = service_counters(receive=receive, consume=consume)
    assert (found["received"], found["valid"], found["js_acked"]) == (3, 3, 3)
    capture = SubjectStats(started=0.0)
    capture.add("a", 1, "ERROR")
    assert service_counters(capture=capture)["errors"] == 1
    assert service_counters() == {}
