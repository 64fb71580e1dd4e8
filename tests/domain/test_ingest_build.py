"""Tests for domain.ingest_build: a run is what the ordinary fast-ingest path sends, and the
acked lines are what the publisher's record emitter writes."""

from __future__ import annotations

import io
import json

import pytest

from nats_pubsub.domain import ingest_build
from nats_pubsub.domain.batch_protocol import OpenBatch
from nats_pubsub.domain.events import EventFactory
from nats_pubsub.domain.ingest_build import Built, IngestBatcher, LineFormat, acked_lines
from nats_pubsub.domain.schema import DEFAULT_EVENT_TYPES
from nats_pubsub.logs import logger as logs
from nats_pubsub.logs.lines import DIGITS, INT, Fill
from nats_pubsub.logs.logger import Logger, LogSink

TYPES = (*DEFAULT_EVENT_TYPES, "we%ird")
SUFFIX = "@run%1"
_NAMES = ("message_id", "subject", "sequence", "size_bytes", "event_type", "js_stream", "js_batch")


def subject_of(event_type: str) -> str:
    """The subject each event type goes to in these tests."""
    return f"events.{event_type}"


def _line_format(log: Logger, source: str) -> LineFormat:
    """The publisher's `Message published` line format for --fast-ingest, batch id left empty."""

    def line_format(subject: str, event_type: str) -> bytes:
        fields = {
            "message_id": Fill.text(f"{source}-", b"%b"),
            "subject": subject,
            "sequence": DIGITS,
            "size_bytes": INT,
            "event_type": event_type,
            "js_stream": "EV%NTS",
            "js_batch": "",
        }
        form = log.line_format("INFO", "Message published", fields, "on_sent")
        assert form is not None
        return form

    return line_format


def _batcher(source: str = "pub", log: Logger | None = None) -> IngestBatcher:
    log = log or Logger("nats-publisher", LogSink(io.BytesIO()))
    factory = EventFactory(source, TYPES, seed=3)
    return IngestBatcher(factory, subject_of, SUFFIX, _line_format(log, source))


@pytest.mark.parametrize("source", ["pub", 'odd "host"\\ü%d'])
def test_frames_and_jobs_are_what_the_ordinary_path_makes(source: str) -> None:
    """Frames match OpenBatch.frame for the same jobs; jobs carry subject, payload, id, `Built`."""
    batcher = _batcher(source)
    batch = OpenBatch("_INBOX.x%y", "x%y1", 256)
    run = batcher.build(40, 1 << 20, batch.head, 1)
    reference = OpenBatch("_INBOX.x%y", "x%y1", 256)
    expected = b""
    for n, (subject, payload, msg_id, built, attempt) in enumerate(run.jobs, 1):
        event = json.loads(payload)
        seq = event["sequence"]
        assert (seq, attempt) == (n, 1)
        assert built[1:] == (subject, n, len(payload))
        assert subject == subject_of(event["data"]["event_type"])
        assert msg_id == f"{source}-{n}{SUFFIX}".encode()
        start = f"HPUB {subject} ".encode()
        expected += reference.frame(start, (subject, payload, msg_id, built, 1))
    assert run.frames == expected
    assert run.payload_bytes == sum(len(job[1]) for job in run.jobs)
    assert run.oversized is None


def test_a_later_run_adds_to_the_batch_and_a_new_batch_gets_its_head() -> None:
    """Runs number on from `first` with op 1; a new batch's head replaces the old in the frames."""
    batcher = _batcher()
    old, new = OpenBatch("_INBOX.a", "a1", 8), OpenBatch("_INBOX.a", "a2", 8)
    batcher.build(3, 1 << 20, old.head, 1)
    later = batcher.build(2, 1 << 20, old.head, 4)
    fresh = batcher.build(2, 1 << 20, new.head, 1)
    replies = [command.split(b" ")[2] for command, _ in _commands(later.frames + fresh.frames)]
    assert replies == [
        b"_INBOX.a.a1.8.fail.4.1.$FI",
        b"_INBOX.a.a1.8.fail.5.1.$FI",
        b"_INBOX.a.a2.8.fail.1.0.$FI",
        b"_INBOX.a.a2.8.fail.2.1.$FI",
    ]


def _commands(frames: bytes) -> list[tuple[bytes, bytes]]:
    """(command line, body) of each HPUB command in `frames`."""
    found = []
    while frames:
        command, _, rest = frames.partition(b"\r\n")
        total = int(command.split(b" ")[-1])
        found.append((command, rest[:total]))
        frames = rest[total + 2 :]
    return found


def test_an_oversized_message_ends_the_run() -> None:
    """A payload over the limit is left out and handed back; the run stops before it."""
    reference = EventFactory("pub", TYPES, seed=3)
    sizes = [len(reference.next_encoded_at(0)[2]) for _ in range(50)]
    first_over = next(i for i, size in enumerate(sizes) if size > sizes[0])
    batcher = _batcher()
    run = batcher.build(50, sizes[0], OpenBatch("_INBOX.a", "a1", 8).head, 1)
    assert run.oversized is not None
    assert (run.oversized[0], len(run.oversized[2])) == (first_over + 1, sizes[first_over])
    assert len(run.jobs) == first_over == len(_commands(run.frames))


@pytest.mark.parametrize(("source", "suffix"), [("bad\nsource", ""), ("pub", "@a\r")])
def test_an_id_no_header_can_carry_is_refused(source: str, suffix: str) -> None:
    """A line break in the source or the suffix cannot be in a Nats-Msg-Id: refused up front."""
    with pytest.raises(ValueError, match="line break"):
        IngestBatcher(EventFactory(source, TYPES), subject_of, suffix, lambda s, t: b'""}\n')


def test_a_line_format_without_an_empty_last_field_is_refused() -> None:
    """The batch id is joined in after the lines' last field: a format that lacks it is refused."""
    with pytest.raises(ValueError, match="empty field"):
        IngestBatcher(EventFactory("pub", TYPES), subject_of, "", lambda s, t: b'"x"}\n')


def test_acked_lines_are_the_record_emitters_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each line is the publisher's record for its message, stamped with the message's time and
    naming the batch that acked it (a resent message, the later one)."""
    source = 'odd "host"\\ü%d'
    stream = io.BytesIO()
    log = Logger("nats-publisher", LogSink(stream))
    at = 1_764_400_000_123_456_000
    monkeypatch.setattr(ingest_build, "now_ns", lambda: at)
    monkeypatch.setattr(logs, "now_ns", lambda: at)
    batcher = _batcher(source, log)
    run = batcher.build(len(TYPES) * 2, 1 << 20, OpenBatch("_INBOX.b", "b1", 8).head, 1)
    built: list[Built] = [job[3] for job in run.jobs]
    rendered = acked_lines(built[:5], "b%1") + acked_lines(built[5:], "b%2")
    emit = log.record_emitter("INFO", "Message published", _NAMES, "on_sent")
    for n, (subject, payload, _, _, _) in enumerate(run.jobs):
        event = json.loads(payload)
        sent = (f"{source}-{n + 1}", subject, n + 1, len(payload), event["data"]["event_type"])
        emit(*sent, "EV%NTS", "b%1" if n < 5 else "b%2")
    log.flush()
    module = b'"module":"test_ingest_build"'
    assert rendered.replace(module, b"") == stream.getvalue().replace(module, b"")
    assert rendered.count(b"\n") == len(built)


def test_a_message_sent_the_ordinary_way_is_reported_alike(monkeypatch: pytest.MonkeyPatch) -> None:
    """`built` makes the report a run would have made for the same message."""
    monkeypatch.setattr(ingest_build, "now_ns", lambda: 1_764_400_000_123_456_000)
    run = _batcher().build(3, 1 << 20, OpenBatch("_INBOX.b", "b1", 8).head, 1)
    for _, payload, _, built, _ in run.jobs:
        event = json.loads(payload)
        again = _batcher().built(event["sequence"], event["data"]["event_type"], len(payload))
        assert again == built


def test_no_messages_make_no_lines() -> None:
    """An ack that covers nothing of ours writes nothing."""
    assert acked_lines([], "b1") == b""


def test_a_sequence_grown_a_digit_between_runs_gets_longer_headers() -> None:
    """Messages sent the ordinary way between two runs may take the sequence past 9: the next
    run's headers count the extra digit, as OpenBatch.frame does."""
    factory = EventFactory("pub", TYPES, seed=3)
    log = Logger("nats-publisher", LogSink(io.BytesIO()))
    batcher = IngestBatcher(factory, subject_of, SUFFIX, _line_format(log, "pub"))
    head = OpenBatch("_INBOX.a", "a1", 64).head
    batcher.build(3, 1 << 20, head, 1)
    for _ in range(7):  # sequences 4-10, sent the ordinary way
        factory.next_encoded_at(0)
    run = batcher.build(3, 1 << 20, head, 4)
    reference = OpenBatch("_INBOX.a", "a1", 64)
    reference.sent = 3
    expected = b"".join(reference.frame(f"HPUB {job[0]} ".encode(), job) for job in run.jobs)
    assert [job[3][2] for job in run.jobs] == [11, 12, 13]
    assert run.frames == expected
