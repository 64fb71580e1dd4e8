"""Flat-out core NATS publishing: a batch's frames and log lines, filled from per-type formats.

When the publisher floods core NATS with JSON logs, each message costs one `%` for its payload
(`EventFactory.next_encoded_stamped`), one for its HPUB frame (`wire.hpub_numbered_format`) and one
for its `Message published` line (`Logger.line_format`), the formats made once per event type.
The bytes are those `Outbox.put` queues and the publisher's record emitter writes, and the
line's timestamp is the one in the message. Pure: nothing here does I/O.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from nats_pubsub.domain.events import EventFactory
from nats_pubsub.domain.timeutil import now_ns, stamp_parts
from nats_pubsub.domain.wire import check_msg_id, hpub_numbered_format

__all__ = ["Batch", "CoreBatcher", "LineFormat"]

# (subject, event type) -> the `Message published` line format of such messages, filled with
# (stamp prefix, microseconds, sequence's digits (in the message id), sequence's digits, size in
# bytes): the digits as bytes (`log_lines.DIGITS`).
LineFormat = Callable[[str, str], bytes]


class Batch(NamedTuple):
    """Messages built in one go, ready to queue and to log."""

    frames: bytes  # their HPUB commands, one after the other
    lines: bytes  # their log lines, in the same order
    messages: int
    payload_bytes: int
    # A message built but left out because it is larger than the server takes (then the last):
    # its sequence, event type and payload, to publish the ordinary way, which reports it.
    oversized: tuple[int, str, bytes] | None


class CoreBatcher:
    """Builds batches of the factory's messages with their frames and log lines."""

    __slots__ = ("_factory", "_id_prefix", "_kinds", "_line_format", "_subject_of")

    def __init__(
        self, factory: EventFactory, subject_of: Callable[[str], str], line_format: LineFormat
    ) -> None:
        self._factory = factory
        self._subject_of = subject_of
        self._line_format = line_format
        # Message ids are "{source}-{sequence}"; raises ValueError if a header can't carry it.
        self._id_prefix = check_msg_id(f"{factory.source}-")
        self._kinds: dict[str, tuple[bytes, int, bytes]] = {}  # frame and line formats per type

    def _kind(self, event_type: str) -> tuple[bytes, int, bytes]:
        subject = self._subject_of(event_type)
        frame, header_base = hpub_numbered_format(subject, self._id_prefix)
        kind = (frame, header_base, self._line_format(subject, event_type))
        self._kinds[event_type] = kind
        return kind

    def build(self, most: int, max_payload: int) -> Batch:
        """The next `most` messages (fewer if one is larger than `max_payload`)."""
        frames: list[bytes] = []
        lines: list[bytes] = []
        payload_bytes = 0
        next_encoded, kinds = self._factory.next_encoded_stamped, self._kinds
        for _ in range(most):
            stamp, micros = stamp_parts(now_ns())
            seq, text, event_type, payload = next_encoded(stamp, micros)
            frame, header_base, line = kinds.get(event_type) or self._kind(event_type)
            size = len(payload)
            if size > max_payload:
                return Batch(
                    b"".join(frames),
                    b"".join(lines),
                    len(lines),
                    payload_bytes,
                    (seq, event_type, payload),
                )
            header = header_base + len(text)
            frames.append(frame % (header, header + size, text, payload))
            lines.append(line % (stamp, micros, text, text, size))
            payload_bytes += size
        return Batch(b"".join(frames), b"".join(lines), len(lines), payload_bytes, None)
