"""Facts read from the services' own records and a stream's replay, as the services write them."""

from __future__ import annotations

import json

from nats_pubsub.chaos.facts import (
    parse_lines,
    read_consumer,
    read_consumer_run,
    read_core_publisher,
    read_core_subscriber,
    read_publisher,
    read_stream,
    record_time,
)

T0 = "2026-01-02T03:04:05.500000Z"


def _lines(*records: dict[str, object]) -> list[str]:
    return [json.dumps({"timestamp": T0, **r}) for r in records] + ["not json", "[1]"]


def test_a_publisher_run_in_its_records() -> None:
    records = parse_lines(
        _lines(
            {"message": "JetStream publishing", "run_id": "abc"},
            {"message": "Publisher started", "count": 3},
            {"message": "Message published", "message_id": "p-1", "js_stream": "EVENTS"},
            {
                "message": "Message published",
                "message_id": "p-2",
                "js_batch": "b1",
                "js_stream": "EVENTS",
            },
            {"message": "Publish failed", "message_id": "p-3", "error": "no responders"},
            {"message": "Publisher metrics", "js_retries": 4},
            {"message": "Publisher metrics", "final": True, "js_retries": 5},
        )
    )
    run = read_publisher("js", records, 1)
    assert [ack.msg_id for ack in run.acks] == ["p-1@abc", "p-2@abc"]
    assert run.acks[0].at == record_time({"timestamp": T0})
    assert (run.requested, run.failed, run.failures, run.finished, run.retries) == (
        3,
        1,
        ("no responders",),
        True,
        5,
    )


def test_payments_acks_and_a_killed_run() -> None:
    records = parse_lines(
        _lines(
            {"message": "JetStream publishing", "run_id": "r9"},
            {"message": "Payment publisher started", "count": 10},
            {"message": "Credit card accepted", "transaction_id": "TXN-x-1", "js_stream": "P"},
            {"message": "Credit card declined", "transaction_id": "TXN-x-2", "js_stream": "P"},
            {"message": "Credit card accepted", "transaction_id": "TXN-x-3"},  # core: no ack
        )
    )
    run = read_publisher("payments", records, None)
    assert [ack.msg_id for ack in run.acks] == ["TXN-x-1@r9", "TXN-x-2@r9"]
    assert not run.finished


def test_consumer_deliveries() -> None:
    records = parse_lines(
        _lines(
            {
                "message": "Message received",
                "js_stream": "EVENTS",
                "js_sequence": 4,
                "js_delivered": 2,
            },
            {
                "message": "Message captured",
                "js_stream": "PAYMENTS",
                "js_sequence": 9,
                "duplicate": True,
            },
            {"message": "Message received", "sequence": 3},  # core: not a delivery
        )
    )
    got = read_consumer("sub", records)
    assert [(d.stream, d.seq, d.delivered, d.duplicate) for d in got] == [
        ("EVENTS", 4, 2, False),
        ("PAYMENTS", 9, 1, True),
    ]


def test_core_pair() -> None:
    pub = parse_lines(_lines(*({"message": "Message published", "sequence": n} for n in (1, 2))))
    assert [seq for seq, _ in read_core_publisher(pub)] == [1, 2]
    sub = parse_lines(
        _lines(
            {"message": "Message received", "source": "core", "sequence": 1},
            {"message": "Message received", "source": "other", "sequence": 1},
            {"message": "Subscriber metrics", "lost": 9},
            {"message": "Subscriber metrics", "final": True, "lost": 1, "duplicates": 2},
        )
    )
    receipts = read_core_subscriber(sub, "core")
    assert (receipts.sequences, receipts.reported_lost, receipts.reported_duplicates) == (
        (1,),
        1,
        2,
    )
    assert receipts.finished


def test_stream_contents_from_replay_lines() -> None:
    lines = [
        json.dumps({"subject": "events.a", "sequence": 1, "headers": {"Nats-Msg-Id": "p-1@r"}}),
        json.dumps({"subject": "events.a", "sequence": 2, "headers": None}),
    ]
    stored = read_stream(parse_lines(lines))
    assert [(s.seq, s.subject, s.msg_id) for s in stored] == [
        (1, "events.a", "p-1@r"),
        (2, "events.a", ""),
    ]


def test_a_consumer_run_and_the_count_of_its_final_metrics() -> None:
    records = parse_lines(
        _lines(
            {"message": "Message received", "js_stream": "EVENTS", "js_sequence": 1},
            {"message": "Subscriber metrics", "valid_messages": 1},
            {"message": "Subscriber metrics", "final": True, "valid_messages": 1},
        )
    )
    run = read_consumer_run("sub", 2, records)
    assert (run.number, len(run.deliveries), run.counted) == (2, 1, 1)
    killed = read_consumer_run("sub", 3, records[:2])
    assert killed.counted is None
    monitor = parse_lines(
        _lines({"message": "Monitor metrics", "final": True, "total_messages": 7})
    )
    assert read_consumer_run("monitor", 1, monitor).counted == 7
