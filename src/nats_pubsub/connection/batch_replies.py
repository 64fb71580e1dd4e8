"""The replies to fast-ingest batches (fast_ingest.py's `BatchWindow` is built on this class):
flow acks report messages stored, a refused message fails or waits to be sent again, and a
batch that ends (the stream's final reply, a gap, no leader, an overdue reply) leaves what it did
not store to be sent again in a new batch, after a doubling delay, unless it is time to give up.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import msgspec

from nats_pubsub.connection.pub_ack import FailCallback, PubAckInfo
from nats_pubsub.connection.publish_watch import PublishWatch
from nats_pubsub.domain.batch_protocol import (
    REFUSED_BATCH,
    RETRY_BATCH,
    BatchError,
    Job,
    OpenBatch,
    decode_reply,
)
from nats_pubsub.domain.publish_retry import NO_RESPONDERS, gave_up, is_transient, retry_delay

__all__ = ["AcksCallback", "BatchReplies"]

# Reports the contexts of the messages one reply acknowledged, in order, with that ack.
AcksCallback = Callable[[list[Any], PubAckInfo], None]


class BatchReplies:
    """The reply side of a fast-ingest publisher: the state both sides share, and what each
    reply of the open batch does to it."""

    stream: str
    acked: int
    retried: int
    _cut: int  # where a reply subject's batch id starts
    _open: OpenBatch | None
    _resend: list[Job]  # from a batch that ended early, to send first
    _heard: float  # when the stream last replied, or we began to wait for it
    _progress_at: float  # the last ack, or when publishing began after a rest
    _failures: int  # batches ended early in a row without an ack
    _resend_at: float  # not before then: a new batch of leftovers (backoff)
    _last_error: str
    _give_up_after: float | None
    _on_acks: AcksCallback
    _on_fail: FailCallback
    _changed: asyncio.Event
    _idle: asyncio.Event
    _watch_log: PublishWatch

    def _on_reply(
        self, subject: str, reply: str, data: bytes, headers: dict[str, str] | None
    ) -> None:
        rest = subject[self._cut :]
        batch = self._open
        if batch is None or rest[: rest.find(".")] != batch.id:
            return  # a batch that has ended already
        self._heard = time.monotonic()
        if headers and headers.get("Status") == "503":
            self._end_batch(0, None, NO_RESPONDERS)
            return
        try:
            got = decode_reply(data)
        except msgspec.DecodeError:
            self._end_batch(None, None, f"unreadable reply: {data[:80]!r}")
            return
        kind = got.type
        if kind == "ack":
            batch.confirmed = True
            batch.set_flow(got.msgs)
            self._ack_through(batch, got.seq)
        elif kind == "gap":
            self._warn("Batch lost messages on the way; resending", lost=got.seq - got.last_seq - 1)
        elif kind == "err":
            self._refuse(batch, got.seq, got.error)
        elif got.error is not None:
            code = got.error.err_code
            why = f"{got.error.description} (code {code})"
            if code in RETRY_BATCH or is_transient(0, code):
                self._end_batch(None, None, why)
            elif code in REFUSED_BATCH:
                self._end_batch(0, why)
            else:  # this message refused (e.g. too large); a gap and the final reply follow
                parts = rest.split(".", 4)  # batch, flow, "fail", number, op.$FI
                number = parts[3] if len(parts) > 3 else ""
                self._refuse(batch, int(number) if number.isdigit() else 0, got.error)
        else:
            self._end_batch(got.count, None)
        self._changed.set()

    def _ack_through(self, batch: OpenBatch, number: int) -> None:
        """Report messages up to `number` of the open batch as stored."""
        contexts = batch.take_acked(number)
        if contexts:
            self.acked += len(contexts)
            self._progress_at = time.monotonic()
            self._failures = 0
            self._on_acks(contexts, PubAckInfo(self.stream, batch=batch.id))

    def _refuse(self, batch: OpenBatch, number: int, error: BatchError | None) -> None:
        job = batch.refuse(number)
        if job is None:
            return
        why = f"{error.description} (code {error.err_code})" if error else "rejected"
        if error is not None and is_transient(0, error.err_code):
            self.retried += 1
            self._last_error = why
            self._resend.append((*job[:4], job[4] + 1))  # with the batch's other leftovers
        else:
            self._on_fail(job[3], why)

    def _end_batch(self, stored: int | None, error: str | None, transient: str = "") -> None:
        """The open batch is over: `stored` messages kept (None: not known), or all refused
        (`error`); what is left is sent again in a new batch, after a doubling delay when the
        batch ended without an ack (`transient` says why), unless it is time to give up."""
        batch = self._open
        if batch is None:
            return
        acked = self.acked
        if stored is not None:
            self._ack_through(batch, stored)
        self._open = None
        now = time.monotonic()
        if self.acked == acked:
            self._failures += 1
            self._resend_at = now + retry_delay(self._failures)
        if transient:
            self._last_error = transient
        late = gave_up(self._progress_at, now, self._give_up_after)
        leftovers: list[Job] = []
        for job in batch.take_unacked():
            if error is not None:
                self._on_fail(job[3], error)
            elif late:
                self._on_fail(job[3], self._gave_up_reason())
            else:
                self.retried += 1
                leftovers.append((*job[:4], job[4] + 1))
        self._resend[:0] = leftovers  # before those still waiting from an earlier batch
        if late and self._resend:
            for job in self._resend:
                self._on_fail(job[3], self._gave_up_reason())
            self._resend.clear()
        self._changed.set()
        self._settle()

    def _gave_up_reason(self) -> str:
        last = f"; last: {self._last_error}" if self._last_error else ""
        return f"no acknowledgement for {self._give_up_after:g} s{last}"

    def _settle(self) -> None:
        if not self._resend and self._open is None:
            self._idle.set()

    def _warn(self, message: str, **fields: Any) -> None:
        self._watch_log.warn(message, self.retried, **fields)
