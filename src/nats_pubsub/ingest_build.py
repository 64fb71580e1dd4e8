"""Flat-out fast-ingest publishing: a run of messages and the log lines of acked ones, filled
from per-type formats.

The publisher floods a fast-ingest batch (ingest.py) in runs: `IngestBatcher.build` makes each
message's payload (`EventFactory.next_encoded_stamped`) and its HPUB frame with one `%` apiece,
the frame format made once per event type and batch, and hands back the frames in one piece with
the jobs the batch keeps for acks and resends. The frames are byte for byte those
`OpenBatch.frame` makes. When an ack covers a run of messages, `AckedLines.render` makes their
`Message published` lines with one `%` each, stamped with the ack's time. Pure: nothing here
does I/O.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from nats_pubsub.batch_protocol import OP_ADD, OP_START, Job
from nats_pubsub.events import EventFactory
from nats_pubsub.timeutil import now_ns, stamp_parts
from nats_pubsub.wire import HEADER_OVERHEAD, check_msg_id

__all__ = ["AckedLines", "IngestBatcher", "IngestRun", "Sent"]

# What the publisher reports of a message: message id, subject, sequence, size in bytes, event
# type (its context for `Outbox`, on every publishing path).
Sent = tuple[str, str, int, int, str]
# (subject, event type, stream, batch id) -> the `Message published` line format of such messages,
# filled with (stamp prefix, microseconds, sequence (in the message id), sequence, size).
LineFormat = Callable[[str, str, str, str], bytes]


def _escaped(text: bytes) -> bytes:
    return text.replace(b"%", b"%%")


class IngestRun(NamedTuple):
    """Messages built in one go for the open batch, ready to queue."""

    frames: bytes  # their HPUB commands, one after the other
    jobs: list[Job]  # the batch's jobs for them, in the same order (context: a `Sent`)
    payload_bytes: int
    # A message built but left out because it is larger than the server takes (then the last):
    # its sequence, event type and payload, to publish the ordinary way, which reports it.
    oversized: tuple[int, str, bytes] | None


class IngestBatcher:
    """Builds runs of the factory's messages numbered into a fast-ingest batch.

    Message ids are "{source}-{sequence}" and their `Nats-Msg-Id` that and `suffix` (the run's
    de-duplication suffix); raises ValueError if a header can't carry them.
    """

    __slots__ = ("_factory", "_head", "_id", "_id_prefix", "_kinds", "_subject_of", "_suffix")

    def __init__(
        self, factory: EventFactory, subject_of: Callable[[str], str], suffix: str
    ) -> None:
        self._factory = factory
        self._subject_of = subject_of
        self._id_prefix = check_msg_id(f"{factory.source}-")
        self._suffix = check_msg_id(suffix).encode()
        self._id = b"%b%%d%b" % (_escaped(self._id_prefix.encode()), _escaped(self._suffix))
        self._head = b""  # the batch the formats below are for
        # event type -> (frame format, header size less the sequence's digits, subject)
        self._kinds: dict[str, tuple[bytes, int, str]] = {}

    def _kind(self, event_type: str) -> tuple[bytes, int, str]:
        subject = self._subject_of(event_type)
        start = _escaped(f"HPUB {subject} ".encode()) + _escaped(self._head)
        frame = (
            start
            + b"%d.%d.$FI %d %d\r\nNATS/1.0\r\nNats-Msg-Id: "
            + _escaped(self._id_prefix.encode())
            + b"%d"
            + _escaped(self._suffix)
            + b"\r\n\r\n%b\r\n"
        )
        kind = self._kinds[event_type] = (
            frame,
            HEADER_OVERHEAD + len(self._id_prefix.encode()) + len(self._suffix),
            subject,
        )
        return kind

    def build(self, most: int, max_payload: int, head: bytes, first: int) -> IngestRun:
        """The next `most` messages (fewer if one is larger than `max_payload`), numbered from
        `first` in the batch whose reply subjects start with `head` (`OpenBatch.head`)."""
        if head != self._head:
            self._head = head
            self._kinds.clear()
        frames: list[bytes] = []
        jobs: list[Job] = []
        payload_bytes = 0
        next_encoded, kinds = self._factory.next_encoded_stamped, self._kinds
        prefix, id_format = self._id_prefix, self._id
        for number in range(first, first + most):
            stamp, micros = stamp_parts(now_ns())
            seq, event_type, payload = next_encoded(stamp, micros)
            frame, header_base, subject = kinds.get(event_type) or self._kind(event_type)
            size = len(payload)
            if size > max_payload:
                return IngestRun(b"".join(frames), jobs, payload_bytes, (seq, event_type, payload))
            header = header_base + len(str(seq))
            op = OP_ADD if number > 1 else OP_START
            frames.append(frame % (number, op, header, header + size, seq, payload))
            sent = (f"{prefix}{seq}", subject, seq, size, event_type)
            jobs.append((subject, payload, id_format % seq, sent, 1))
            payload_bytes += size
        return IngestRun(b"".join(frames), jobs, payload_bytes, None)


class AckedLines:
    """The `Message published` lines of acked messages, from a format per event type, stream
    and batch (the formats of one batch kept at a time). A message's subject is taken to follow
    from its event type, as the publisher's subject template makes it."""

    __slots__ = ("_batch", "_formats", "_line_format")

    def __init__(self, line_format: LineFormat) -> None:
        self._line_format = line_format
        self._batch = ("", "")
        self._formats: dict[str, bytes] = {}

    def render(
        self, sents: list[Sent], stream: str, batch: str, stamp: bytes, micros: int
    ) -> bytes:
        """The lines of `sents`, acked in `batch` of `stream`, stamped with the two parts of
        `stamp_parts`."""
        if (stream, batch) != self._batch:
            self._batch = (stream, batch)
            self._formats.clear()
        formats = self._formats
        lines: list[bytes] = []
        append, known = lines.append, formats.get
        for _, subject, seq, size, event_type in sents:
            line = known(event_type)
            if line is None:
                line = formats[event_type] = self._line_format(subject, event_type, stream, batch)
            append(line % (stamp, micros, seq, seq, size))
        return b"".join(lines)
