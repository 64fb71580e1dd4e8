"""The streams panel's rows and the replay's start, pure."""

from __future__ import annotations

import pytest

from nats_pubsub.gateway.dashboard.streams_view import MAX_CONSUMERS, stream_rows
from nats_pubsub.gateway.validation import Invalid, ReplayFrom, replay_from

NOW = 1_800_000_000 * 10**9


def _stream(name: str, last: int) -> dict[str, object]:
    return {
        "config": {"name": name, "subjects": [f"{name.lower()}.>"]},
        "state": {"messages": last, "bytes": last * 100, "first_seq": 1, "last_seq": last},
    }


def _consumer(name: str, delivered: int, pending: int, ack_pending: int) -> dict[str, object]:
    return {
        "name": name,
        "config": {"durable_name": name},
        "delivered": {"consumer_seq": delivered, "stream_seq": delivered},
        "num_pending": pending,
        "num_ack_pending": ack_pending,
        "num_redelivered": 2,
    }


def test_streams_with_their_consumers_judged_by_the_health_rules() -> None:
    rows = stream_rows(
        [_stream("PAYMENTS", 20_000), _stream("EVENTS", 5)],
        {
            "PAYMENTS": [
                _consumer("slow", 100, 19_900, 0),
                _consumer("busy", 18_000, 10, 1_500),
                _consumer("fine", 20_000, 0, 3),
            ],
            "EVENTS": [],
        },
        NOW,
    )
    assert [r.name for r in rows] == ["EVENTS", "PAYMENTS"]
    payments = rows[1]
    assert (payments.messages, payments.bytes, payments.last_seq) == (20_000, 2_000_000, 20_000)
    found = {c.name: (c.status, c.pending, c.ack_pending, c.lag) for c in payments.consumers}
    assert found == {
        "busy": ("Overloaded", 10, 1_500, 2_000),
        "fine": ("Healthy", 0, 3, 0),
        "slow": ("Lagging", 19_900, 0, 19_900),
    }
    assert [c.name for c in payments.consumers] == ["busy", "fine", "slow"]
    assert rows[0].consumers == []


def test_a_stream_with_many_consumers_lists_the_first_ones() -> None:
    consumers = [_consumer(f"c{i:03d}", 0, 0, 0) for i in range(MAX_CONSUMERS + 3)]
    (row,) = stream_rows([_stream("S", 1)], {"S": consumers}, NOW)
    assert len(row.consumers) == MAX_CONSUMERS
    assert row.more_consumers == 3


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        (None, ReplayFrom(1, None)),
        ("all", ReplayFrom(1, None)),
        ("42", ReplayFrom(42, None)),
        ("seq:7", ReplayFrom(7, None)),
        ("since:15m", ReplayFrom(None, NOW - 15 * 60 * 10**9)),
        ("since:2027-01-14T08:00:00Z", ReplayFrom(None, 1_799_913_600 * 10**9)),
    ],
)
def test_a_replay_starts_at_a_sequence_or_a_time(start: str | None, expected: ReplayFrom) -> None:
    query = {} if start is None else {"start": start}
    assert replay_from(query, NOW) == expected


@pytest.mark.parametrize(
    "start", ["0", "seq:0", "seq:x", "since:", "since:yesterday", "last", "-3"]
)
def test_a_replay_start_it_cannot_read_is_a_400_saying_what_works(start: str) -> None:
    with pytest.raises(Invalid, match="start must be a stream sequence"):
        replay_from({"start": start}, NOW)
