"""A JetStream publisher's own warnings: one per burst, and a stall said once, then its end."""

from __future__ import annotations

import io
import json
from typing import Any

from nats_pubsub.connection.publish_watch import PublishWatch
from nats_pubsub.logs.logger import Logger, LogSink


def _watch() -> tuple[PublishWatch, io.BytesIO]:
    stream = io.BytesIO()
    return PublishWatch(Logger("t", LogSink(stream)), stream="EVENTS"), stream


def _records(stream: io.BytesIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_a_warning_repeated_in_a_burst_is_logged_once_with_its_context() -> None:
    watch, stream = _watch()
    for retried in range(3):
        watch.warn("Acknowledgement timed out, retrying", retried, in_flight=7)
    watch.warn("Batch lost messages on the way; resending", 3, lost=2)
    records = _records(stream)
    assert [r["message"] for r in records] == [
        "Acknowledgement timed out, retrying",
        "Batch lost messages on the way; resending",
    ]
    assert records[0]["level"] == "WARNING"
    assert (records[0]["stream"], records[0]["retries_so_far"], records[0]["in_flight"]) == (
        "EVENTS",
        0,
        7,
    )
    assert (records[1]["retries_so_far"], records[1]["lost"]) == (3, 2)


def test_a_stall_is_said_once_when_it_begins_and_once_when_acks_come_again() -> None:
    watch, stream = _watch()
    for now in (100.0, 102.0, 104.9):  # waiting, not yet 5 s
        watch.look(now, acked=10, in_flight=4, retried=1, last_error="")
    assert _records(stream) == []
    for now in (105.0, 106.0, 109.0):  # stalled: said once
        watch.look(now, acked=10, in_flight=4, retried=2, last_error="no responders")
    watch.look(111.5, acked=11, in_flight=3, retried=5, last_error="")
    watch.look(112.0, acked=12, in_flight=2, retried=5, last_error="")
    records = _records(stream)
    assert [r["message"] for r in records] == ["Publishing stalled", "Publishing resumed"]
    stalled, resumed = records
    assert stalled["stream"] == "EVENTS"
    assert stalled["seconds_without_ack"] == 5.0
    assert (stalled["in_flight"], stalled["last_error"], stalled["retries_so_far"]) == (
        4,
        "no responders",
        2,
    )
    assert (resumed["stalled_seconds"], resumed["retries_so_far"]) == (11.5, 5)


def test_nothing_waiting_is_no_stall() -> None:
    watch, stream = _watch()
    for now in (0.0, 10.0, 20.0):
        watch.look(now, acked=0, in_flight=0, retried=0, last_error="")
    assert _records(stream) == []
