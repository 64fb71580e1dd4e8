"""JetStream fast-ingest publishing: messages sent as one batch, acked every `flow` messages.

Part of the connection layer, beside ack_window.py's `AckWindow` and with the same surface (`room`,
`put`, `flush`, `publish`, `wait_all`). Needs nats-server 2.14+ and `allow_batched` on the stream.

The protocol and the decisions are in batch_protocol.py. At most 2 * `flow` messages are
unacknowledged. A batch ends when the publisher pauses (the stream's final reply then acks what no
flow ack has), or early on a gap, a forgotten batch or a reply overdue by the ack timeout: the
messages it left unacked are sent again in a new batch with the same `Nats-Msg-Id`, so the stream
keeps one copy of each.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

from nats_pubsub.connection.batch_replies import AcksCallback, BatchReplies
from nats_pubsub.connection.core import Connection
from nats_pubsub.connection.frame_queue import FrameQueue
from nats_pubsub.connection.pub_ack import FailCallback
from nats_pubsub.connection.publish_watch import PublishWatch
from nats_pubsub.domain.batch_protocol import (
    END,
    GIVE_UP,
    OP_END,
    OP_PING,
    PING,
    WAIT,
    Job,
    OpenBatch,
    watch_step,
)
from nats_pubsub.domain.wire import check_msg_id
from nats_pubsub.errors import NatsError
from nats_pubsub.logs.logger import Logger

__all__ = ["AcksCallback", "BatchWindow"]

_LOOK_EVERY = 1.0  # seconds between looks at a stall while messages wait


class BatchWindow(BatchReplies):
    """Fast-ingest publishing to `stream`: up to 2 * `flow` messages unacknowledged."""

    def __init__(
        self,
        conn: Connection,
        *,
        stream: str,
        flow: int,
        ack_timeout: float,
        give_up_after: float | None,
        on_acks: AcksCallback,
        on_fail: FailCallback,
        log: Logger,
    ) -> None:
        self._conn = conn
        self._nc = conn.client
        self.frames = FrameQueue(conn)
        self.stream = stream  # the stream the batches go to
        self._flow = max(1, flow)
        self._timeout = ack_timeout
        self._give_up_after = give_up_after
        self._on_acks = on_acks
        self._on_fail = on_fail
        self._log = log
        self._inbox = ""
        self._cut = 0
        self._batches = 0
        self._open: OpenBatch | None = None
        self._resend: list[Job] = []  # from a batch that ended early, to send first
        self._changed = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._watcher: asyncio.Task[None] | None = None
        self._last_put = 0.0
        self._closing = False  # `wait_all` was called: nothing more will be put
        self._heard = 0.0  # when the stream last replied, or we began to wait for it
        self._waiting = 0  # publishers waiting in `room`
        self._watch_log = PublishWatch(log, stream=stream)
        self._last_error = ""
        self._progress_at = 0.0  # the last ack, or when publishing began after a rest
        self._failures = 0  # batches ended early in a row without an ack
        self._resend_at = 0.0  # not before then: a new batch of leftovers (backoff)
        self.acked = 0
        self.retried = 0

    @property
    def in_flight(self) -> int:
        """Messages published and not yet acknowledged or given up on."""
        return (len(self._open.jobs) if self._open else 0) + len(self._resend)

    async def start(self) -> None:
        """Subscribe to the replies of every batch (once, before the first publish)."""
        self._inbox = self._nc.new_inbox()
        self._cut = len(self._inbox) + 1
        try:
            await self._conn.subscribe_direct(f"{self._inbox}.>", self._on_reply, headers=True)
        except NatsError as exc:
            raise NatsError(f"could not subscribe for batch acks: {exc}") from exc

    def _free(self) -> int:
        batch = self._open
        if self._resend or (batch is not None and batch.ending):
            return 0
        return 1 if batch is None else batch.room()  # 1: the message that starts a batch

    async def room(self) -> int:
        """Wait until a message may be sent; how many may."""
        if self._open is None and not self._resend:  # publishing again after a rest
            self._progress_at = time.monotonic()
        free = self._free()
        while free <= 0:
            if not self._waiting:
                self._heard = time.monotonic()
            self._waiting += 1
            self._changed.clear()
            try:
                await self._changed.wait()
            finally:
                self._waiting -= 1
            free = self._free()
        return free

    async def publish(self, subject: str, payload: bytes, msg_id: str, context: Any) -> None:
        """Send one message; returns once it is in flight (waits for room first)."""
        if len(payload) > self.frames.max_payload:
            self._on_fail(
                context,
                f"payload of {len(payload)} bytes is over the server's max_payload "
                f"({self.frames.max_payload} bytes)",
            )
            return
        await self.room()
        self.put(subject, payload, check_msg_id(msg_id), context)
        await self.flush()

    def put(self, subject: str, payload: bytes, msg_id: str, context: Any) -> None:
        """Collect one message for the next `flush`, as many as `room` allowed."""
        if "\r" in msg_id or "\n" in msg_id:
            check_msg_id(msg_id)  # raises
        self._send((subject, payload, msg_id.encode(), context, 1))

    def _batch(self) -> OpenBatch:
        batch = self._open
        if batch is None:
            self._batches += 1
            batch_id = f"{self._inbox[self._inbox.rfind('.') + 1 :]}{self._batches}"
            batch = self._open = OpenBatch(self._inbox, batch_id, self._flow)
            self._heard = time.monotonic()
        return batch

    def _send(self, job: Job) -> None:
        batch, frames = self._batch(), self.frames
        if frames.usable:
            frames.add(batch.frame(frames.start(job[0]), job), len(job[1]))
        else:  # nats-py's public API: the same message, numbered the same way
            frames.add_message(job[0], batch.reply(job), job[2].decode(), job[1])

    def slot(self) -> tuple[bytes, int]:
        """For `put_run`: the open batch's reply head and the next message's number (a batch
        is opened if none is)."""
        batch = self._batch()
        return batch.head, batch.sent + 1

    def put_run(self, frames: bytes, jobs: list[Job], payload_bytes: int) -> None:
        """Collect messages numbered from `slot()` whose frames the caller made, as many as
        `room` allowed (nothing may run between `slot` and this)."""
        self._batch().extend(jobs)
        self.frames.add(frames, payload_bytes, len(jobs))

    async def flush(self) -> None:
        """Hand the messages collected by `put` to the client, and watch their acks."""
        self._last_put = time.monotonic()
        if self._open is not None:
            self._idle.clear()
            if self._watcher is None or self._watcher.done():
                self._watcher = asyncio.get_running_loop().create_task(self._watch())
        await self.frames.flush()  # while reconnecting, the client keeps it until connected

    async def _watch(self) -> None:
        """Resend what an early end left, end the batch when the publisher pauses, and ping or
        give up on a batch whose reply is overdue; until no batch is open."""
        pinged = 0.0
        while self._open is not None or self._resend:
            now = time.monotonic()
            self._look(now)
            batch = self._open
            if batch is None and now < self._resend_at:  # a new batch of leftovers, later
                await self._pause(self._resend_at - now)
                continue
            if self._resend and not (batch and batch.ending) and await self._send_again():
                continue
            if batch is None:  # waiting for nothing: resends wait for a batch to open
                continue
            step, wait = watch_step(
                now,
                awaited=bool(self._waiting or batch.ending or not batch.confirmed or self._resend),
                unacked=len(batch.jobs),
                last_put=self._last_put,
                heard=self._heard,
                pinged=pinged,
                timeout=self._timeout,
                closing=self._closing,
            )
            if step == WAIT:
                await self._pause(wait)
            elif step == END:
                batch.ending = True
                self._heard = now
                await self._control(batch, OP_END, batch.sent + 1)
            elif step == PING:
                pinged = now
                await self._control(batch, OP_PING, batch.sent)
            elif step == GIVE_UP:
                self._warn("Batch acknowledgement timed out", ack_timeout=self._timeout)
                self._end_batch(None, None, f"no acknowledgement within {self._timeout:g} s")
            else:  # FORGET: all acked; the stream lets the batch expire
                self._open = None
        self._look(time.monotonic())
        self._settle()

    async def _pause(self, seconds: float) -> None:
        """Wait until something changes, `seconds` at most (and a look at a stall each second)."""
        self._changed.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._changed.wait(), min(seconds, _LOOK_EVERY))

    def _look(self, now: float) -> None:
        if not self._progress_at:
            self._progress_at = now
        self._watch_log.look(
            now,
            acked=self.acked,
            in_flight=self.in_flight,
            retried=self.retried,
            last_error=self._last_error,
        )

    async def _send_again(self) -> bool:
        """Send what may be sent of the messages an early end left unacked; False if none."""
        resend, batch = self._resend, self._open
        if batch is None:
            self._warn("Resending unacknowledged messages in a new batch", messages=len(resend))
            self._send(resend.pop(0))  # starts the batch; the rest once the stream takes it
        elif batch.room() > 0:
            room = batch.room()
            for job in resend[:room]:
                self._send(job)
            del resend[:room]
        else:
            return False
        self._last_put = time.monotonic()
        await self.frames.flush()
        if not resend:
            self._changed.set()  # publishers waiting in `room` may go on
        return True

    async def _control(self, batch: OpenBatch, op: int, number: int) -> None:
        """Send an unstored control message of the open batch."""
        if self.frames.usable:
            self.frames.add(batch.control(op, number), 0, 0)
        else:
            self.frames.add_message(batch.subject, batch.control_reply(op, number), "", b"")
        await self.frames.flush()

    async def wait_all(self, timeout: float | None) -> bool:
        """Wait until every message is settled; the publisher puts no more, so the open batch
        ends without waiting for a pause. False if `timeout` (None: none) passed first."""
        self._closing = True
        self._changed.set()
        try:
            await asyncio.wait_for(self._idle.wait(), timeout)
        except TimeoutError:
            return False
        return True

    def give_up(self, reason: str) -> int:
        """Report every message still unacknowledged as failed (at exit); how many were."""
        jobs = [*(self._open.take_unacked() if self._open else ()), *self._resend]
        self._open = None
        self._resend.clear()
        for job in jobs:
            self._on_fail(job[3], reason)
        self._idle.set()
        return len(jobs)
