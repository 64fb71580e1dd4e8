"""What a chaos run's checks stand on, read from the services' own JSON records and the streams'
contents (as `nats-pubsub replay` writes them), never from the chaos tool's bookkeeping (pure).

One service process (an incarnation) is one log; `read_publisher`, `read_consumer` and the core
readers turn its records into named facts.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any, NamedTuple

__all__ = [
    "Ack",
    "ConsumerRun",
    "CoreReceipts",
    "Delivery",
    "PublisherRun",
    "Stored",
    "parse_lines",
    "read_consumer",
    "read_consumer_run",
    "read_core_publisher",
    "read_core_subscriber",
    "read_publisher",
    "read_stream",
    "record_time",
]

Record = dict[str, Any]


class Ack(NamedTuple):
    """A publish the stream acknowledged, as the publisher logged it: its Nats-Msg-Id and when."""

    msg_id: str
    at: float


class PublisherRun(NamedTuple):
    """One run (process) of a JetStream publisher."""

    service: str
    run_id: str
    requested: int | None  # its --count
    acks: tuple[Ack, ...]
    failed: int  # `Publish failed` records
    failures: tuple[str, ...]  # their errors, first few
    finished: bool  # wrote its final metrics record (it was not killed)
    exit_code: int | None
    retries: int  # publishes sent again, from its last metrics record


class Delivery(NamedTuple):
    """One message a consumer processed: stream sequence, delivery count, duplicate flag."""

    service: str
    stream: str
    seq: int
    delivered: int
    duplicate: bool
    at: float


class ConsumerRun(NamedTuple):
    """One process of a JetStream consumer: what it processed, and the count of messages its
    final metrics record gives (None: killed before it wrote one)."""

    service: str
    number: int
    deliveries: tuple[Delivery, ...]
    counted: int | None


class Stored(NamedTuple):
    """One message in a stream: sequence, subject and Nats-Msg-Id header."""

    seq: int
    subject: str
    msg_id: str


class CoreReceipts(NamedTuple):
    """A core NATS subscriber's view of one source: sequences received and loss it reported."""

    sequences: tuple[int, ...]
    reported_lost: int
    reported_duplicates: int
    finished: bool
    times: tuple[float, ...]


def parse_lines(lines: Iterable[str | bytes]) -> list[Record]:
    """The JSON objects among `lines` (anything else is skipped)."""
    records = []
    for line in lines:
        try:
            value = json.loads(line)
        except ValueError:
            continue
        if isinstance(value, dict):
            records.append(value)
    return records


def record_time(record: Record) -> float:
    """A record's `timestamp` as epoch seconds (0.0 when it has none)."""
    stamp = record.get("timestamp")
    if not isinstance(stamp, str):
        return 0.0
    try:
        return datetime.fromisoformat(stamp).timestamp()
    except ValueError:
        return 0.0


_ACKED_TEXTS = frozenset({"Message published", "Credit card accepted", "Credit card declined"})
_STARTED_TEXTS = frozenset({"Publisher started", "Payment publisher started"})
_METRICS_TEXTS = frozenset({"Publisher metrics", "Payment publisher metrics"})


def read_publisher(service: str, records: list[Record], exit_code: int | None) -> PublisherRun:
    """A JetStream publisher's run: acked messages (with `js_stream`), failures, its count."""
    run_id, requested, finished, retries = "", None, False, 0
    acks: list[Ack] = []
    failures: list[str] = []
    failed = 0
    for record in records:
        text = record.get("message")
        if text in _ACKED_TEXTS and record.get("js_stream"):
            message_id = record.get("message_id") or record.get("transaction_id")
            acks.append(Ack(f"{message_id}@{run_id}", record_time(record)))
        elif text == "JetStream publishing":
            run_id = str(record.get("run_id", ""))
        elif text in _STARTED_TEXTS:
            count = record.get("count")
            requested = count if isinstance(count, int) else None
        elif text == "Publish failed":
            failed += 1
            if len(failures) < 5:
                failures.append(str(record.get("error")))
        elif text in _METRICS_TEXTS:
            retries = int(record.get("js_retries") or retries)
            finished = finished or record.get("final") is True
    return PublisherRun(
        service,
        run_id,
        requested,
        tuple(acks),
        failed,
        tuple(failures),
        finished,
        exit_code,
        retries,
    )


_PROCESSED_TEXTS = frozenset({"Message received", "Message captured", "Duplicate delivery"})


def read_consumer(service: str, records: list[Record]) -> list[Delivery]:
    """The JetStream deliveries a consumer processed (records carrying `js_sequence`)."""
    deliveries = []
    for record in records:
        seq = record.get("js_sequence")
        if record.get("message") in _PROCESSED_TEXTS and isinstance(seq, int):
            delivered = record.get("js_delivered")
            deliveries.append(
                Delivery(
                    service,
                    str(record.get("js_stream", "")),
                    seq,
                    delivered if isinstance(delivered, int) else 1,
                    record.get("duplicate") is True,
                    record_time(record),
                )
            )
    return deliveries


_FINAL_COUNTS = {"Subscriber metrics": "valid_messages", "Monitor metrics": "total_messages"}


def read_consumer_run(service: str, number: int, records: list[Record]) -> ConsumerRun:
    """A consumer process's deliveries and the messages its final metrics say it processed."""
    counted = None
    for record in records:
        field = _FINAL_COUNTS.get(str(record.get("message")))
        if field is not None and record.get("final"):
            value = record.get(field)
            counted = value if isinstance(value, int) else None
    return ConsumerRun(service, number, tuple(read_consumer(service, records)), counted)


def read_core_publisher(records: list[Record]) -> list[tuple[int, float]]:
    """A core publisher's published sequences and when."""
    return [
        (record["sequence"], record_time(record))
        for record in records
        if record.get("message") == "Message published" and isinstance(record.get("sequence"), int)
    ]


def read_core_subscriber(records: list[Record], source: str) -> CoreReceipts:
    """What a core subscriber received from `source`, and the loss it reported at the end."""
    sequences, times = [], []
    lost = duplicates = 0
    finished = False
    for record in records:
        text = record.get("message")
        if text == "Message received" and record.get("source") == source:
            seq = record.get("sequence")
            if isinstance(seq, int):
                sequences.append(seq)
                times.append(record_time(record))
        elif text == "Subscriber metrics" and record.get("final"):
            lost = int(record.get("lost") or 0)
            duplicates = int(record.get("duplicates") or 0)
            finished = True
    return CoreReceipts(tuple(sequences), lost, duplicates, finished, tuple(times))


def read_stream(records: list[Record]) -> list[Stored]:
    """A stream's messages from `nats-pubsub replay` output lines."""
    stored = []
    for record in records:
        seq = record.get("sequence")
        if not isinstance(seq, int):
            continue
        headers = record.get("headers") or {}
        msg_id = headers.get("Nats-Msg-Id", "") if isinstance(headers, dict) else ""
        stored.append(Stored(seq, str(record.get("subject", "")), str(msg_id)))
    return stored
