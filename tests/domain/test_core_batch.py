"""Tests for domain.core_batch: a batch is what the ordinary publish path sends and logs."""

from __future__ import annotations

import io
import json

import pytest

from nats_pubsub.domain.core_batch import CoreBatcher
from nats_pubsub.domain.events import EventFactory
from nats_pubsub.domain.schema import DEFAULT_EVENT_TYPES, encode
from nats_pubsub.domain.timeutil import format_ns, parse_timestamp_ns
from nats_pubsub.domain.wire import hpub_frame
from nats_pubsub.logs import logger as logs
from nats_pubsub.logs.lines import DIGITS, INT, Fill
from nats_pubsub.logs.logger import Logger, LogSink

_NAMES = ("message_id", "subject", "sequence", "size_bytes", "event_type")


def subject_of(event_type: str) -> str:
    """The subject each event type goes to in these tests."""
    return f"events.{event_type}"


def batcher_and_logger(source: str, seed: int = 5) -> tuple[CoreBatcher, Logger, io.BytesIO]:
    """A batcher whose lines are the `Message published` records of a logger on a buffer."""
    stream = io.BytesIO()
    log = Logger("nats-publisher", LogSink(stream))

    def line_format(subject: str, event_type: str) -> bytes:
        fields = {
            "message_id": Fill.text(f"{source}-", b"%b"),
            "subject": subject,
            "sequence": DIGITS,
            "size_bytes": INT,
            "event_type": event_type,
        }
        form = log.line_format("INFO", "Message published", fields, "on_sent")
        assert form is not None
        return form

    factory = EventFactory(source, (*DEFAULT_EVENT_TYPES, "we%ird"), seed=seed)
    return CoreBatcher(factory, subject_of, line_format), log, stream


def split_frames(frames: bytes) -> list[tuple[str, bytes, bytes]]:
    """(subject, header block, payload) of each HPUB command in `frames`."""
    found = []
    while frames:
        command, _, rest = frames.partition(b"\r\n")
        _, subject, header_size, total_size = command.split(b" ")
        body, frames = rest[: int(total_size)], rest[int(total_size) + 2 :]
        found.append((subject.decode(), body[: int(header_size)], body[int(header_size) :]))
    return found


@pytest.mark.parametrize("source", ["pub", 'odd "host"\\ü%d'])
def test_frames_are_what_the_ordinary_path_sends(source: str) -> None:
    """Each frame is hpub_frame of the factory's next message with its "{source}-{seq}" id."""
    batcher, _, _ = batcher_and_logger(source)
    reference = EventFactory(source, (*DEFAULT_EVENT_TYPES, "we%ird"), seed=5)
    batch = batcher.build(120, 1 << 20)
    expected = b""
    for _, _, payload in split_frames(batch.frames):
        message = reference.next(json.loads(payload)["timestamp"])
        subject = subject_of(message.data.event_type)
        expected += hpub_frame(subject, f"{source}-{message.sequence}", encode(message))
    assert batch.frames == expected
    assert batch.messages == 120
    assert batch.payload_bytes == sum(len(p) for _, _, p in split_frames(batch.frames))


def test_lines_are_the_record_emitters_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each line is the publisher's record for its message, stamped with the message's time."""
    batcher, log, stream = batcher_and_logger("pub")
    batch = batcher.build(60, 1 << 20)
    payloads = [payload for _, _, payload in split_frames(batch.frames)]
    emit = log.record_emitter("INFO", "Message published", _NAMES, "on_sent")
    for payload in payloads:
        event = json.loads(payload)
        at = parse_timestamp_ns(event["timestamp"])
        assert format_ns(at) == event["timestamp"]
        monkeypatch.setattr(logs, "now_ns", lambda at=at: at)
        subject = subject_of(event["data"]["event_type"])
        emit(
            event["message_id"],
            subject,
            event["sequence"],
            len(payload),
            event["data"]["event_type"],
        )
    log.flush()
    expected = stream.getvalue().replace(b'"module":"test_core_batch"', b'"module":"X"')
    assert batch.lines.replace(b'"module":"test_core_batch"', b'"module":"X"') == expected
    assert batch.lines.count(b"\n") == batch.messages == 60


def test_an_oversized_message_ends_the_batch() -> None:
    """A payload over the limit is left out of the frames and handed back, and the batch stops."""
    batcher, _, _ = batcher_and_logger("pub")
    reference = EventFactory("pub", (*DEFAULT_EVENT_TYPES, "we%ird"), seed=5)
    sizes = [len(reference.next_encoded_at(0)[2]) for _ in range(50)]
    limit = sizes[0]
    first_over = next(i for i, size in enumerate(sizes) if size > limit)
    batch = batcher.build(50, limit)
    assert batch.oversized is not None
    seq, _, payload = batch.oversized
    assert (seq, len(payload)) == (first_over + 1, sizes[first_over])
    assert batch.messages == first_over == len(split_frames(batch.frames))
    assert batch.lines.count(b"\n") == first_over


def test_a_source_no_header_can_carry_is_refused() -> None:
    """A line break in the source cannot be part of a Nats-Msg-Id: refused up front."""
    with pytest.raises(ValueError, match="line break"):
        batcher_and_logger("bad\nsource")
