"""Acked JetStream publishing with a bounded window, that does not give up on a transient failure.

Part of the connection layer (it drives the nats-py client directly; frames are queued through
frame_queue.py's `FrameQueue`). `AckWindow` publishes with up to `window` messages in flight: each
carries a reply subject under one inbox subscription (delivered straight from the read loop); acks
are decoded with msgspec and matched by token. One task walks the oldest pending publishes: a
publish whose ack is overdue, or whose answer was transient (no responders while a leader is
elected, JetStream unavailable, the same id still being stored, a disconnect), is sent again with
the same `Nats-Msg-Id` after a doubling delay (`publish_retry`), until it is acked, so the stream
never stores it twice. Messages waiting to be sent again hold their slot in the window: memory
stays bounded and the publisher waits. A publish fails only on an answer that cannot change, or
`give_up_after` seconds after it was first sent. The same task says when publishing has had no
ack for 5 s and when it resumes. No future, task or timer per message.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import time
from typing import Any

import msgspec

from nats_pubsub.connection.core import Connection
from nats_pubsub.connection.frame_queue import FrameQueue
from nats_pubsub.connection.pub_ack import AckCallback, FailCallback, decode_ack
from nats_pubsub.connection.publish_watch import PublishWatch
from nats_pubsub.domain.publish_retry import NO_RESPONDERS, gave_up, is_transient, retry_delay
from nats_pubsub.domain.wire import HEADER_OVERHEAD, HPUB_REPLY_FORMAT, check_msg_id
from nats_pubsub.errors import NatsError
from nats_pubsub.logs.logger import Logger

__all__ = ["AckWindow"]

_LOOK_EVERY = 1.0  # seconds between looks at a stall while publishes wait
# HPUB_REPLY_FORMAT with the reply subject as the inbox prefix and a numbered token
_HPUB_REPLY = HPUB_REPLY_FORMAT.replace(b"%b %d", b"%b%d %d", 1)


class _Job:
    __slots__ = (
        "attempt",
        "context",
        "deadline",
        "error",
        "first_sent",
        "msg_id",
        "payload",
        "subject",
    )

    def __init__(self, subject: str, payload: bytes, msg_id: bytes, context: Any) -> None:
        self.subject = subject
        self.payload = payload
        self.msg_id = msg_id
        self.context = context
        self.attempt = 1
        self.deadline = 0.0
        self.first_sent = 0.0  # set when it is first queued (0: not yet)
        self.error = ""  # the last transient failure, for the record if it is given up on


class AckWindow:
    """Acked publishing with up to `window` messages in flight; what fails for now is sent again
    under the same msg id until acked, or until `give_up_after` seconds (None: never).

    No responders means a stream's leader is being elected when the caller made sure a stream
    takes the subject; a caller that did not (`no_responders_final`) hears it as a failure.
    """

    def __init__(
        self,
        conn: Connection,
        *,
        window: int,
        ack_timeout: float,
        give_up_after: float | None,
        no_responders_final: bool = False,
        on_ack: AckCallback,
        on_fail: FailCallback,
        log: Logger,
    ) -> None:
        self._conn = conn
        self._nc = conn.client
        self.frames = FrameQueue(conn)
        self._window = window
        self._timeout = ack_timeout
        self._give_up_after = give_up_after
        self._no_responders_final = no_responders_final  # no stream was made sure of beforehand
        self._on_ack = on_ack
        self._on_fail = on_fail
        self._log = log
        self._pending: dict[str, _Job] = {}  # token -> job, oldest deadline first
        self._again: list[tuple[float, int, _Job]] = []  # (when, order, job): to send again
        self._order = 0
        self._next_token = 0
        self._prefix = ""
        self._reply = b""
        self._cut = 0
        self._room: asyncio.Future[None] | None = None  # a publisher waiting for a free slot
        self._deadline = 0.0  # when the acks of the batch being collected are due
        self._idle = asyncio.Event()
        self._idle.set()
        self._wake = asyncio.Event()  # a publish is to be sent again sooner than planned
        self._sweeper: asyncio.Task[None] | None = None
        self._watch_log = PublishWatch(log)
        self._last_error = ""
        self.acked = 0
        self.retried = 0

    @property
    def in_flight(self) -> int:
        """Messages published and not yet acknowledged or given up on."""
        return len(self._pending) + len(self._again)

    async def start(self) -> None:
        """Subscribe to the ack inbox (once, before the first publish)."""
        self._prefix = self._nc.new_inbox()
        self._reply = f"{self._prefix}.".encode()
        self._cut = len(self._prefix) + 1
        try:
            await self._conn.subscribe_direct(f"{self._prefix}.*", self._on_reply, headers=True)
        except NatsError as exc:
            raise NatsError(f"could not subscribe for acks: {exc}") from exc

    async def room(self) -> int:
        """Wait until a slot is free; how many are. Starts the ack timeout of the next batch."""
        while len(self._pending) + len(self._again) >= self._window:
            self._room = asyncio.get_running_loop().create_future()
            await self._room
        self._deadline = time.monotonic() + self._timeout
        return self._window - len(self._pending) - len(self._again)

    async def publish(self, subject: str, payload: bytes, msg_id: str, context: Any) -> None:
        """Send one message; returns once it is in flight (waits for a free slot first)."""
        await self.room()
        job = _Job(subject, payload, check_msg_id(msg_id).encode(), context)
        await self._resend(job, self._deadline)

    def put(self, subject: str, payload: bytes, msg_id: str, context: Any) -> None:
        """Collect one message for the next `flush`: only while `room()` and `frames.is_open()`.

        Messages larger than the server takes go through `publish` instead.
        """
        if "\r" in msg_id or "\n" in msg_id:
            check_msg_id(msg_id)  # raises
        self._queue(_Job(subject, payload, msg_id.encode(), context), self._deadline)

    def _queue(self, job: _Job, deadline: float) -> None:
        self._next_token = token = self._next_token + 1
        job.deadline = deadline
        self._pending[str(token)] = job
        frames = self.frames
        start = frames.start(job.subject)
        size = HEADER_OVERHEAD + len(job.msg_id)
        length = len(job.payload)
        frames.add(
            _HPUB_REPLY % (start, self._reply, token, size, size + length, job.msg_id, job.payload),
            length,
        )

    async def flush(self) -> None:
        """Hand the messages collected by `put` to the client, and watch their acks."""
        if self._pending:
            self._idle.clear()
            self._watch()
        await self.frames.flush()

    def _watch(self) -> None:
        if self._sweeper is None or self._sweeper.done():
            self._sweeper = asyncio.get_running_loop().create_task(self._sweep())

    async def _resend(self, job: _Job, deadline: float) -> None:
        """Send `job` (again): queued on the client in one piece when it can be, else through
        nats-py itself (reconnecting, or a payload larger than the server takes)."""
        if self.frames.is_open() and len(job.payload) <= self.frames.max_payload:
            self._queue(job, deadline)
            await self.flush()
        else:
            await self._send(job, deadline)

    async def _send(self, job: _Job, deadline: float) -> None:
        """Publish one job through nats-py itself, with its `Nats-Msg-Id`."""
        self._next_token += 1
        token = str(self._next_token)
        job.deadline = deadline
        self._pending[token] = job
        self._idle.clear()
        try:
            await self._nc.publish(
                job.subject,
                job.payload,
                reply=f"{self._prefix}.{token}",
                headers={"Nats-Msg-Id": job.msg_id.decode()},
            )
        except Exception as exc:
            self._pending.pop(token, None)
            error = f"{type(exc).__name__}: {exc}"
            if self._nc.is_closed:
                self._finish(job, error)
            else:  # e.g. the reconnect buffer is full: later, the same message
                self._retry(job, error)
            return
        self._watch()

    def _on_reply(
        self, subject: str, reply: str, data: bytes, headers: dict[str, str] | None
    ) -> None:
        job = self._pending.pop(subject[self._cut :], None)
        if job is None:
            return  # the ack of an attempt that already timed out; its retry is in flight
        if headers and headers.get("Status") == "503":
            if self._no_responders_final:
                self._finish(job, "no stream stores this subject (no responders)")
            else:
                self._retry(job, NO_RESPONDERS)
            return
        try:
            ack = decode_ack(data)
        except msgspec.DecodeError:
            self._retry(job, f"unreadable acknowledgement: {data[:80]!r}")
            return
        error = ack.error
        if error is not None:
            why = f"{error.description} (code {error.err_code})"
            if is_transient(error.code, error.err_code):
                self._retry(job, why)
            else:
                self._finish(job, why)
            return
        self.acked += 1
        room = self._room  # `_finish` inlined: this is once per message
        if room is not None and not room.done():
            room.set_result(None)
        self._on_ack(job.context, ack)
        if not self._pending and not self._again:
            self._idle.set()

    def _retry(self, job: _Job, error: str) -> None:
        """Send `job` again after a delay (its slot stays taken), unless it is time to give up."""
        now = time.monotonic()
        if not job.first_sent:
            job.first_sent = job.deadline - self._timeout
        if gave_up(job.first_sent, now, self._give_up_after):
            self._finish(
                job,
                f"not acknowledged within {self._give_up_after:g} s "
                f"({job.attempt} attempts; last: {error})",
            )
            return
        job.error = self._last_error = error
        delay = retry_delay(job.attempt)
        job.attempt += 1
        self.retried += 1
        self._order += 1
        heapq.heappush(self._again, (now + delay, self._order, job))
        self._warn("Publish not acknowledged yet; retrying", error=error, retry_in_seconds=delay)
        self._wake.set()
        self._watch()

    async def _sweep(self) -> None:
        """Send again what is due, retry publishes whose ack is overdue, and watch for a stall;
        until nothing is pending."""
        pending, again = self._pending, self._again
        while pending or again:
            now = time.monotonic()
            self._look(now)
            while again and again[0][0] <= now:
                job = heapq.heappop(again)[2]
                await self._resend(job, time.monotonic() + self._timeout)
            if pending:
                token, job = next(iter(pending.items()))
                if job.deadline <= now:
                    del pending[token]
                    self._warn(
                        "Acknowledgement timed out, retrying",
                        ack_timeout_seconds=self._timeout,
                        note="retries reuse the Nats-Msg-Id, so the stream keeps one copy",
                    )
                    self._retry(job, f"no acknowledgement within {self._timeout:g} s")
                    continue
            wake = [now + _LOOK_EVERY]
            if pending:
                wake.append(next(iter(pending.values())).deadline)
            if again:
                wake.append(again[0][0])
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), max(0.0, min(wake) - now))
        self._look(time.monotonic())

    def _look(self, now: float) -> None:
        self._watch_log.look(
            now,
            acked=self.acked,
            in_flight=self.in_flight,
            retried=self.retried,
            last_error=self._last_error,
        )

    def _warn(self, message: str, **fields: Any) -> None:
        self._watch_log.warn(message, self.retried, in_flight=self.in_flight, **fields)

    def _finish(self, job: _Job, error: str) -> None:
        """`job` failed for good."""
        room = self._room
        if room is not None and not room.done():
            room.set_result(None)
        self._on_fail(job.context, error)
        if not self._pending and not self._again:
            self._idle.set()

    async def wait_all(self, timeout: float | None) -> bool:
        """Wait until every message in flight is settled (`timeout` None: however long that
        takes); False if `timeout` passed first."""
        try:
            await asyncio.wait_for(self._idle.wait(), timeout)
        except TimeoutError:
            return False
        return True

    def give_up(self, reason: str) -> int:
        """Report every message still unacknowledged as failed (at exit); how many were."""
        jobs = [*self._pending.values(), *(item[2] for item in self._again)]
        self._pending.clear()
        self._again.clear()
        for job in jobs:
            self._on_fail(job.context, reason)
        self._idle.set()
        return len(jobs)
