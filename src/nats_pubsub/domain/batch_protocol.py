"""The fast-ingest batch protocol (ADR-50, nats-server 2.14+): wire formats, replies, one open
batch's bookkeeping (`OpenBatch`) and the decisions of `connection.fast_ingest.BatchWindow`,
all pure.

Each message carries the reply subject `<inbox>.<batch>.<flow>.fail.<n>.<op>.$FI`: message number
n of batch `<batch>`; op 0 starts the batch, 1 adds to it, 3 ends it (an empty, unstored message),
4 asks for the latest ack again. The stream stores each message as it arrives and replies on that
subject every `flow` messages with `{"type":"ack","seq":n,"msgs":flow}`: messages 1..n are stored,
in order ("fail": a gap ends the batch). It reports a gap (`{"type":"gap"}`), a refused message
(`{"type":"err"}`, or an error reply on that message's subject) and ends the batch with a final
reply (`{"stream":..,"count":c}`: messages 1..c are stored), or an error for the batch as a whole.
"""

from __future__ import annotations

from operator import itemgetter
from typing import Any

import msgspec

from nats_pubsub.domain.wire import HEADER_OVERHEAD

__all__ = [
    "END",
    "FORGET",
    "GIVE_UP",
    "HPUB_BATCH_FORMAT",
    "IDLE_SECONDS",
    "OP_ADD",
    "OP_END",
    "OP_PING",
    "OP_START",
    "PING",
    "REFUSED_BATCH",
    "RETRY_BATCH",
    "WAIT",
    "BatchReply",
    "Job",
    "OpenBatch",
    "batch_reply_head",
    "batch_room",
    "decode_reply",
    "watch_step",
]

IDLE_SECONDS = 0.05  # a batch with nothing put for this long is ended, so its last acks come
OP_START, OP_ADD, OP_END, OP_PING = 0, 1, 3, 4
# The server forgot the batch (ended, idle over 10 s) or has too many open: a new batch may work.
RETRY_BATCH = frozenset({10208, 10211})
# The stream refuses the batch itself: disabled, bad reply subject, bad batch id.
REFUSED_BATCH = frozenset({10205, 10206, 10207})
# HPUB to a batch: command start (b"HPUB subject "), reply head, message number, op, header size,
# total size, Nats-Msg-Id, payload.
HPUB_BATCH_FORMAT = b"%b%b%d.%d.$FI %d %d\r\nNATS/1.0\r\nNats-Msg-Id: %b\r\n\r\n%b\r\n"


class BatchError(msgspec.Struct):
    """The error of a reply."""

    err_code: int = 0
    description: str = ""


class BatchReply(msgspec.Struct):
    """Any reply on a batch's subjects: a flow event (`type` set) or the batch's final reply."""

    type: str = ""
    seq: int = 0
    msgs: int = 0
    last_seq: int = 0
    stream: str = ""
    count: int = -1
    error: BatchError | None = None


decode_reply = msgspec.json.Decoder(BatchReply).decode


def batch_reply_head(inbox: str, batch: str, flow: int) -> bytes:
    """The reply subject of a batch's messages up to the message number."""
    return f"{inbox}.{batch}.{flow}.fail.".encode()


def batch_room(acked: int, flow: int, sent: int) -> int:
    """How many more messages a batch may send: 2 * `flow` past the highest acked one."""
    return acked + 2 * flow - sent


END, FORGET, GIVE_UP, PING, WAIT = "end", "forget", "give up", "ping", "wait"


def watch_step(
    now: float,
    *,
    awaited: bool,
    unacked: int,
    last_put: float,
    heard: float,
    pinged: float,
    timeout: float,
    closing: bool = False,
) -> tuple[str, float]:
    """What an open batch's watcher does next, and how long it waits first (WAIT).

    `awaited`: something is expected from the stream (a publisher waits for room, the batch is
    unconfirmed or ending). Otherwise a batch whose publisher paused for `IDLE_SECONDS` is ended
    (END), or just forgotten when nothing in it awaits an ack (FORGET); `closing` (the publisher
    puts no more) does that at once, without the pause. Something expected and not
    heard for a third of `timeout` asks again (PING), at most once a third; for all of it, the
    batch is given up (GIVE_UP).
    """
    if not awaited:
        wait = last_put + IDLE_SECONDS - now
        if wait <= 0 or closing:
            return (END if unacked else FORGET), 0.0
        return WAIT, wait
    if now - heard >= timeout:
        return GIVE_UP, 0.0
    next_ping = max(heard, pinged) + timeout / 3
    if now >= next_ping:
        return PING, 0.0
    return WAIT, max(0.001, min(next_ping, heard + timeout) - now)


# A message in flight: subject, payload, Nats-Msg-Id, the caller's context, attempt (1 = first).
Job = tuple[str, bytes, bytes, Any, int]
_CONTEXT = itemgetter(3)


class OpenBatch:
    """One open batch's bookkeeping: its numbering, what awaits an ack, what the stream refused.

    Messages are numbered from 1 in the order `frame` is called; `jobs` holds those not yet
    acknowledged, oldest first, so the first of them is number `sent - len(jobs) + 1`.
    """

    __slots__ = (
        "acked",
        "confirmed",
        "ending",
        "flow",
        "head",
        "id",
        "inbox",
        "jobs",
        "refused",
        "sent",
        "subject",
    )

    def __init__(self, inbox: str, batch_id: str, flow: int) -> None:
        self.inbox = inbox
        self.id = batch_id
        self.flow = flow
        self.head = batch_reply_head(inbox, batch_id, flow)
        self.sent = 0  # messages numbered so far
        self.acked = 0  # the highest number the stream acknowledged
        self.confirmed = False  # the stream took the batch (its first ack came)
        self.ending = False  # the end (op 3) was sent; waiting for the final reply
        self.jobs: list[Job] = []
        self.refused: set[int] = set()
        self.subject = ""  # the first message's subject: where control messages go

    def frame(self, start: bytes, job: Job) -> bytes:
        """Number `job` as the next message; its HPUB frame (`start`: b"HPUB subject ")."""
        self.sent = number = self.sent + 1
        if number == 1:
            self.subject = job[0]
        self.jobs.append(job)
        msg_id, payload = job[2], job[1]
        size = HEADER_OVERHEAD + len(msg_id)
        op = OP_ADD if number > 1 else OP_START
        return HPUB_BATCH_FORMAT % (
            start,
            self.head,
            number,
            op,
            size,
            size + len(payload),
            msg_id,
            payload,
        )

    def reply(self, job: Job) -> str:
        """Number `job` as the next message, as `frame` does; its reply subject (for a client
        that builds the frame itself)."""
        self.sent = number = self.sent + 1
        if number == 1:
            self.subject = job[0]
        self.jobs.append(job)
        op = OP_ADD if number > 1 else OP_START
        return (b"%b%d.%d.$FI" % (self.head, number, op)).decode()

    def extend(self, jobs: list[Job]) -> None:
        """Number `jobs` as the next messages, in order; the caller made their frames, as
        `frame` would have (ingest_build.py)."""
        if jobs and not self.sent:
            self.subject = jobs[0][0]
        self.sent += len(jobs)
        self.jobs.extend(jobs)

    def control(self, op: int, number: int) -> bytes:
        """An unstored control message (op 3: end the batch, 4: ask for the latest ack)."""
        reply = b"%b%d.%d.$FI" % (self.head, number, op)
        return b"PUB %b %b 0\r\n\r\n" % (self.subject.encode(), reply)

    def control_reply(self, op: int, number: int) -> str:
        """The reply subject of the control message `control` makes (an empty message to
        `subject`)."""
        return (b"%b%d.%d.$FI" % (self.head, number, op)).decode()

    def room(self) -> int:
        """How many more messages may be sent now."""
        return batch_room(self.acked, self.flow, self.sent) if self.confirmed else 0

    def set_flow(self, flow: int) -> None:
        """Follow the flow the stream says it acks at (0: unchanged)."""
        if flow and flow != self.flow:
            self.flow = flow
            self.head = batch_reply_head(self.inbox, self.id, flow)

    def take_acked(self, number: int) -> list[Any]:
        """The contexts of the messages up to `number`, now acknowledged (refused ones left out)."""
        self.acked = max(self.acked, number)
        jobs = self.jobs
        first = self.sent - len(jobs) + 1
        count = max(0, number - first + 1)
        done = jobs[:count]
        del jobs[:count]
        if self.refused:
            return [job[3] for at, job in enumerate(done, first) if at not in self.refused]
        return list(map(_CONTEXT, done))

    def refuse(self, number: int) -> Job | None:
        """Mark message `number` refused; its job, or None if it is not awaiting an ack or was
        refused already."""
        at = number - (self.sent - len(self.jobs) + 1)
        if 0 <= at < len(self.jobs) and number not in self.refused:
            self.refused.add(number)
            return self.jobs[at]
        return None

    def take_unacked(self) -> list[Job]:
        """The batch is over: every message still awaiting an ack, refused ones left out."""
        jobs, self.jobs = self.jobs, []
        first = self.sent - len(jobs) + 1
        return [job for at, job in enumerate(jobs, first) if at not in self.refused]
