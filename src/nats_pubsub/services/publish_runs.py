"""How a publisher hands its messages over, behind one small interface (`Runs`): one at a time
(`send`: paced, reconnecting, or too large for a batch) and, flat out, up to `room` messages per
event-loop turn (`fill`) collected for the `Outbox`'s next flush.

`EachMessage` collects every message with `Outbox.put` (reported as it is handed over, or when
its JetStream ack comes). With JSON logs the runs are built from per-type formats instead:
`CoreRuns` in core NATS (domain/core_batch.py: payload, frame and log line, three `%` each) and
`IngestRuns` into the open fast-ingest batch (domain/ingest_build.py, numbered from
`BatchWindow.slot()`). The bytes sent and the lines written are those of the ordinary path.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from nats_pubsub.connection.fast_ingest import BatchWindow
from nats_pubsub.domain.core_batch import CoreBatcher
from nats_pubsub.domain.events import EventFactory
from nats_pubsub.domain.ingest_build import Built, IngestBatcher
from nats_pubsub.domain.subjects import SubjectTemplate
from nats_pubsub.domain.timeutil import now_ns
from nats_pubsub.services.outbox import Outbox

__all__ = ["CoreRuns", "EachMessage", "IngestRuns", "RunRecords", "Sent", "Subjects"]

# A message as the publisher reports it: message id, subject, sequence, size in bytes, event
# type (its record's fields, in order). A bare tuple: `EachMessage.fill` makes one per message
# on the JetStream flat-out path, where a NamedTuple's construction measured ten times a tuple's.
Sent = tuple[str, str, int, int, str]


class Subjects:
    """The subject of each event type, from the publisher's subject template (the source never
    changes, so it is rendered once per type)."""

    def __init__(self, template: SubjectTemplate, source: str) -> None:
        self._template = template
        self._source = source
        self.known: dict[str, str] = {}  # event type -> subject; read inline on hot paths

    def of(self, event_type: str) -> str:
        """The subject of `event_type`'s events."""
        subject = self.known.get(event_type)
        if subject is None:
            subject = self._template.render({"event_type": event_type, "source": self._source})
            self.known[event_type] = subject
        return subject


class RunRecords:
    """What the runs need of the publisher's records: where the next metrics record is due,
    and how to count and write a run of `Message published` lines at once."""

    def __init__(
        self,
        until_metrics: Callable[[], int],
        count: Callable[[int, int], None],
        write_lines: Callable[[bytes], None],
    ) -> None:
        self.until_metrics = until_metrics  # messages until the next metrics record
        self.count = count  # (messages, payload bytes) of a run whose lines were written
        self.write_lines = write_lines


class EachMessage:
    """Messages built by the factory, each collected by `Outbox.put` and reported through the
    outbox's callbacks; the base of the runs built from formats."""

    def __init__(self, factory: EventFactory, subjects: Subjects, outbox: Outbox[Any]) -> None:
        self._factory = factory
        self._source = factory.source
        self._subjects = subjects
        self._outbox = outbox

    def context(self, msg_id: str, subject: str, seq: int, size: int, event_type: str) -> Any:
        """What the outbox reports the message with (a `Sent`)."""
        return (msg_id, subject, seq, size, event_type)

    async def send(self, seq: int, event_type: str, payload: bytes) -> None:
        """One message the ordinary way (paced, reconnecting, or an oversized payload)."""
        subject, msg_id = self._subjects.of(event_type), f"{self._source}-{seq}"
        context = self.context(msg_id, subject, seq, len(payload), event_type)
        await self._outbox.send(subject, payload, msg_id, context)

    async def send_next(self) -> None:
        """The factory's next message, the ordinary way."""
        await self.send(*self._factory.next_encoded_at(now_ns()))

    async def fill(self, room: int) -> None:
        """Up to `room` messages collected for the outbox's next flush."""
        outbox = self._outbox
        put, next_encoded, limit = outbox.put, self._factory.next_encoded_at, outbox.max_payload
        known, subject_of, source = self._subjects.known, self._subjects.of, self._source
        for _ in range(room):
            seq, event_type, payload = next_encoded(now_ns())
            if len(payload) > limit:  # the server refuses it: reported the ordinary way
                await outbox.flush()
                await self.send(seq, event_type, payload)
                return
            subject = known.get(event_type) or subject_of(event_type)
            msg_id = f"{source}-{seq}"
            put(subject, payload, msg_id, (msg_id, subject, seq, len(payload), event_type))


class CoreRuns(EachMessage):
    """Core NATS with JSON logs: runs of frames and lines from per-type formats, reported in
    runs that end where a metrics record is due, so records stay in order."""

    def __init__(
        self,
        factory: EventFactory,
        subjects: Subjects,
        outbox: Outbox[Any],
        batcher: CoreBatcher,
        records: RunRecords,
    ) -> None:
        super().__init__(factory, subjects, outbox)
        self._batcher = batcher
        self._records = records

    async def fill(self, room: int) -> None:
        """Up to `room` messages built from formats, their lines written as they are queued."""
        outbox, records, build = self._outbox, self._records, self._batcher.build
        while room > 0:
            batch = build(min(room, records.until_metrics()), outbox.max_payload)
            room -= batch.messages
            outbox.put_frames(batch.frames, batch.messages, batch.payload_bytes)
            records.write_lines(batch.lines)
            records.count(batch.messages, batch.payload_bytes)
            if batch.oversized is not None:  # the server refuses it: reported the ordinary way
                await outbox.flush()
                await self.send(*batch.oversized)
                return


class IngestRuns(EachMessage):
    """--fast-ingest with JSON logs: runs built from formats into the open batch; each
    message's context is its line up to the batch id (`Built`), ended when its ack comes."""

    def __init__(
        self,
        factory: EventFactory,
        subjects: Subjects,
        outbox: Outbox[Any],
        batcher: IngestBatcher,
        window: BatchWindow,
    ) -> None:
        super().__init__(factory, subjects, outbox)
        self._batcher = batcher
        self._window = window

    def context(self, msg_id: str, subject: str, seq: int, size: int, event_type: str) -> Built:
        """The message's `Built` record (stamped now)."""
        return self._batcher.built(seq, event_type, size)

    async def fill(self, room: int) -> None:
        """Up to `room` messages built from formats into the open fast-ingest batch."""
        window = self._window
        run = self._batcher.build(room, self._outbox.max_payload, *window.slot())
        window.put_run(run.frames, run.jobs, run.payload_bytes)
        if run.oversized is not None:  # the server refuses it: reported the ordinary way
            await self._outbox.flush()
            await self.send(*run.oversized)
