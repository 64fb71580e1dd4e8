"""Flat-out fast-ingest publishing: a run of messages and their log lines, filled from per-type
formats.

The publisher floods a fast-ingest batch (connection/fast_ingest.py) in runs:
`IngestBatcher.build` makes each message's payload (`EventFactory.next_encoded_stamped`), its
HPUB frame and its `Message published` line with one `%` apiece, the formats made once per event
type (and batch, for the frame), and hands back the frames in one piece with the jobs the batch
keeps for acks and resends. The frames are byte for byte those `OpenBatch.frame` makes. A line
is made up to the batch id, its last field, and kept as the message's context (`Built`): when an
ack covers a run of messages, `acked_lines` joins their lines with the acking batch's id in one
call, so a message resent in another batch is logged with that one. Pure: nothing here does I/O.
"""

from __future__ import annotations

from collections.abc import Callable
from operator import itemgetter
from typing import NamedTuple

import msgspec

from nats_pubsub.domain.batch_protocol import OP_ADD, OP_START, Job
from nats_pubsub.domain.events import EventFactory
from nats_pubsub.domain.timeutil import now_ns, stamp_parts
from nats_pubsub.domain.wire import HEADER_OVERHEAD, check_msg_id

__all__ = ["Built", "IngestBatcher", "IngestRun", "LineFormat", "acked_lines", "built_bytes"]

# What the publisher reports of a message built here (its context for `BatchWindow`): its
# `Message published` line up to the batch id (`acked_lines` ends it), subject, sequence, size
# in bytes. The message id is "{source}-{sequence}".
Built = tuple[bytes, str, int, int]
# (subject, event type) -> the `Message published` line format of such messages, its last field
# the batch id, left empty (`"js_batch":""}`); filled with (stamp prefix, microseconds, sequence's
# digits (in the message id), sequence's digits, size): the digits as bytes (`log_lines.DIGITS`).
LineFormat = Callable[[str, str], bytes]
_EMPTY_LAST = b'""}\n'
_LINE, _SIZE = itemgetter(0), itemgetter(3)


def _escaped(text: bytes) -> bytes:
    return text.replace(b"%", b"%%")


def acked_lines(built: list[Built], batch: str) -> bytes:
    """The `Message published` lines of `built`, acknowledged in `batch`, in order."""
    if not built:
        return b""
    end = msgspec.json.encode(batch)[1:] + b"}\n"  # the batch id, its closing quote, the end
    return end.join(map(_LINE, built)) + end


def built_bytes(built: list[Built]) -> int:
    """The payload bytes of `built`."""
    return sum(map(_SIZE, built))


class IngestRun(NamedTuple):
    """Messages built in one go for the open batch, ready to queue."""

    frames: bytes  # their HPUB commands, one after the other
    jobs: list[Job]  # the batch's jobs for them, in the same order (context: a `Built`)
    payload_bytes: int
    # A message built but left out because it is larger than the server takes (then the last):
    # its sequence, event type and payload, to publish the ordinary way, which reports it.
    oversized: tuple[int, str, bytes] | None


class IngestBatcher:
    """Builds runs of the factory's messages numbered into a fast-ingest batch, with their lines.

    Message ids are "{source}-{sequence}" and their `Nats-Msg-Id` that and `suffix` (the run's
    de-duplication suffix); raises ValueError if a header can't carry them, or if `line_format`
    does not end with an empty field.
    """

    __slots__ = (
        "_digits",
        "_factory",
        "_head",
        "_id",
        "_id_prefix",
        "_kinds",
        "_line_format",
        "_lines",
        "_subject_of",
        "_suffix",
    )

    def __init__(
        self,
        factory: EventFactory,
        subject_of: Callable[[str], str],
        suffix: str,
        line_format: LineFormat,
    ) -> None:
        self._factory = factory
        self._subject_of = subject_of
        self._line_format = line_format
        self._id_prefix = check_msg_id(f"{factory.source}-")
        self._suffix = check_msg_id(suffix).encode()
        self._id = b"%b%%b%b" % (_escaped(self._id_prefix.encode()), _escaped(self._suffix))
        self._head = b""  # the batch the frame formats are for
        self._digits = 1  # the sequence's digits the frame formats are for (headers count them)
        # event type -> (frame format, that of a batch's first message, header size, subject,
        # line format)
        self._kinds: dict[str, tuple[bytes, bytes, int, str, bytes]] = {}
        self._lines: dict[str, bytes] = {}  # event type -> its line format, up to the batch id
        if not line_format("s", "t").endswith(_EMPTY_LAST):
            raise ValueError("the line format must end with an empty field (the batch id)")

    def _kind(self, event_type: str) -> tuple[bytes, bytes, int, str, bytes]:
        subject = self._subject_of(event_type)
        header = HEADER_OVERHEAD + len(self._id_prefix.encode()) + self._digits + len(self._suffix)
        start = _escaped(f"HPUB {subject} ".encode()) + _escaped(self._head) + b"%d."
        rest = (
            b".$FI %d %%d\r\nNATS/1.0\r\nNats-Msg-Id: " % header
            + _escaped(self._id_prefix.encode())
            + b"%b"
            + _escaped(self._suffix)
            + b"\r\n\r\n%b\r\n"
        )
        line = self._lines.get(event_type)
        if line is None:  # cut before the empty field's closing quote
            line = self._lines[event_type] = self._line_format(subject, event_type)[:-3]
        kind = self._kinds[event_type] = (
            start + b"%d" % OP_ADD + rest,
            start + b"%d" % OP_START + rest,
            header,
            subject,
            line,
        )
        return kind

    def built(self, seq: int, event_type: str, size: int) -> Built:
        """What reports a message published the ordinary way (stamped now)."""
        subject, line = (self._kinds.get(event_type) or self._kind(event_type))[3:]
        stamp, micros = stamp_parts(now_ns())
        text = b"%d" % seq
        return line % (stamp, micros, text, text, size), subject, seq, size

    def build(self, most: int, max_payload: int, head: bytes, first: int) -> IngestRun:
        """The next `most` messages (fewer if one is larger than `max_payload`), numbered from
        `first` in the batch whose reply subjects start with `head` (`OpenBatch.head`)."""
        if head != self._head:
            self._head = head
            self._kinds.clear()
        frames: list[bytes] = []
        jobs: list[Job] = []
        payload_bytes = 0
        next_encoded, kinds, id_format = self._factory.next_encoded_stamped, self._kinds, self._id
        more_digits = 10**self._digits  # the first sequence the formats are too short for
        for number in range(first, first + most):
            stamp, micros = stamp_parts(now_ns())
            seq, text, event_type, payload = next_encoded(stamp, micros)
            if seq >= more_digits:  # one digit more in each header from here on
                self._digits = len(str(seq))
                more_digits = 10**self._digits
                kinds.clear()
            adding, starting, header, subject, line = kinds.get(event_type) or self._kind(
                event_type
            )
            size = len(payload)
            if size > max_payload:
                return IngestRun(b"".join(frames), jobs, payload_bytes, (seq, event_type, payload))
            frame = adding if number > 1 else starting  # the first message starts the batch
            frames.append(frame % (number, header + size, text, payload))
            built = (line % (stamp, micros, text, text, size), subject, seq, size)
            jobs.append((subject, payload, id_format % text, built, 1))
            payload_bytes += size
        return IngestRun(b"".join(frames), jobs, payload_bytes, None)
