"""Acked JetStream publishing with a bounded window.

Part of the connection layer (it drives the nats-py client directly; frames are queued through
frame_queue.py's `FrameQueue`). `AckWindow` publishes with up to `window` messages in flight: each
carries a reply subject under one inbox subscription (delivered straight from the read loop); acks
are decoded with msgspec and matched by token; one timer walks the oldest pending publishes and
retries those past the ack timeout with the same `Nats-Msg-Id`, so the stream never stores a retry
twice. No future, task or timer per message.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import msgspec

from nats_pubsub.connection.core import Connection
from nats_pubsub.connection.frame_queue import FrameQueue
from nats_pubsub.domain.wire import HEADER_OVERHEAD, HPUB_REPLY_FORMAT, check_msg_id
from nats_pubsub.errors import NatsError
from nats_pubsub.logs.logger import Logger

__all__ = ["AckWindow", "PubAckInfo"]

_RETRY_WARN_EVERY = 5.0  # seconds between "Acknowledgement timed out" warnings
# HPUB_REPLY_FORMAT with the reply subject as the inbox prefix and a numbered token
_HPUB_REPLY = HPUB_REPLY_FORMAT.replace(b"%b %d", b"%b%d %d", 1)


class _ApiError(msgspec.Struct):
    code: int = 0
    err_code: int = 0
    description: str = ""


class PubAckInfo(msgspec.Struct):
    """The server's acknowledgement of a JetStream publish (decoded straight from its JSON)."""

    stream: str = ""
    sequence: int = msgspec.field(default=0, name="seq")
    duplicate: bool = False
    error: _ApiError | None = None
    batch: str = ""  # fast ingest (fast_ingest.py): the batch whose ack covered the message


_decode_ack = msgspec.json.Decoder(PubAckInfo).decode

AckCallback = Callable[[Any, PubAckInfo], None]
FailCallback = Callable[[Any, str], None]


class _Job:
    __slots__ = ("attempt", "context", "deadline", "msg_id", "payload", "subject")

    def __init__(self, subject: str, payload: bytes, msg_id: bytes, context: Any) -> None:
        self.subject = subject
        self.payload = payload
        self.msg_id = msg_id
        self.context = context
        self.attempt = 1
        self.deadline = 0.0


class AckWindow:
    """Acked publishing with up to `window` messages in flight; timeouts retried, same msg id."""

    def __init__(
        self,
        conn: Connection,
        *,
        window: int,
        ack_timeout: float,
        retries: int,
        on_ack: AckCallback,
        on_fail: FailCallback,
        log: Logger,
    ) -> None:
        self._conn = conn
        self._nc = conn.client
        self.frames = FrameQueue(conn)
        self._window = window
        self._timeout = ack_timeout
        self._retries = retries
        self._on_ack = on_ack
        self._on_fail = on_fail
        self._log = log
        self._pending: dict[str, _Job] = {}  # token -> job, oldest deadline first
        self._next_token = 0
        self._prefix = ""
        self._reply = b""
        self._cut = 0
        self._room: asyncio.Future[None] | None = None  # a publisher waiting for a free slot
        self._deadline = 0.0  # when the acks of the batch being collected are due
        self._idle = asyncio.Event()
        self._idle.set()
        self._sweeper: asyncio.Task[None] | None = None
        self._quiet_until = 0.0
        self.retried = 0

    @property
    def in_flight(self) -> int:
        """Messages published and not yet acknowledged or given up on."""
        return len(self._pending)

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
        while len(self._pending) >= self._window:
            self._room = asyncio.get_running_loop().create_future()
            await self._room
        self._deadline = time.monotonic() + self._timeout
        return self._window - len(self._pending)

    async def publish(self, subject: str, payload: bytes, msg_id: str, context: Any) -> None:
        """Send one message; returns once it is in flight (waits for a free slot first)."""
        await self.room()
        job = _Job(subject, payload, check_msg_id(msg_id).encode(), context)
        if self.frames.is_open() and len(payload) <= self.frames.max_payload:
            self._queue(job, self._deadline)
            await self.flush()
        else:
            await self._send(job)

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
            if self._sweeper is None or self._sweeper.done():
                self._sweeper = asyncio.get_running_loop().create_task(self._sweep())
        await self.frames.flush()

    async def _send(self, job: _Job) -> None:
        """Publish one job through nats-py itself (reconnecting, or an oversized payload)."""
        self._next_token += 1
        token = str(self._next_token)
        job.deadline = time.monotonic() + self._timeout
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
            self._finish(job, None, f"{type(exc).__name__}: {exc}")
            return
        if self._sweeper is None or self._sweeper.done():
            self._sweeper = asyncio.get_running_loop().create_task(self._sweep())

    def _on_reply(
        self, subject: str, reply: str, data: bytes, headers: dict[str, str] | None
    ) -> None:
        job = self._pending.pop(subject[self._cut :], None)
        if job is None:
            return  # the ack of an attempt that already timed out; its retry is in flight
        if headers and headers.get("Status") == "503":
            self._finish(job, None, "no stream stores this subject (no responders)")
            return
        try:
            ack = _decode_ack(data)
        except msgspec.DecodeError:
            self._finish(job, None, f"unreadable acknowledgement: {data[:80]!r}")
            return
        if ack.error is not None:
            self._finish(job, None, f"{ack.error.description} (code {ack.error.err_code})")
            return
        room = self._room  # `_finish` inlined: this is once per message
        if room is not None and not room.done():
            room.set_result(None)
        self._on_ack(job.context, ack)
        if not self._pending:
            self._idle.set()

    async def _sweep(self) -> None:
        """Retry or fail publishes whose ack is overdue, oldest first, until none is pending."""
        pending = self._pending
        while pending:
            token, job = next(iter(pending.items()))
            wait = job.deadline - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
                continue
            del pending[token]
            if job.attempt <= self._retries:
                job.attempt += 1
                self.retried += 1
                self._warn_retrying()
                if self.frames.is_open() and len(job.payload) <= self.frames.max_payload:
                    self._queue(job, time.monotonic() + self._timeout)
                    await self.frames.flush()
                else:
                    await self._send(job)
            else:
                self._finish(job, None, f"no acknowledgement after {job.attempt} attempts")

    def _warn_retrying(self) -> None:
        now = time.monotonic()
        if now >= self._quiet_until:  # once per burst of timeouts, not once per message
            self._quiet_until = now + _RETRY_WARN_EVERY
            self._log.warning(
                "Acknowledgement timed out, retrying",
                ack_timeout_seconds=self._timeout,
                in_flight=len(self._pending) + 1,
                retries_so_far=self.retried,
                note="retries reuse the Nats-Msg-Id, so the stream keeps one copy",
            )

    def _finish(self, job: _Job, ack: PubAckInfo | None, error: str | None) -> None:
        room = self._room
        if room is not None and not room.done():
            room.set_result(None)
        if ack is not None:
            self._on_ack(job.context, ack)
        else:
            self._on_fail(job.context, error or "unknown error")
        if not self._pending:
            self._idle.set()

    async def wait_all(self, timeout: float) -> bool:
        """Wait until every message in flight is settled; False if `timeout` passed first."""
        try:
            await asyncio.wait_for(self._idle.wait(), timeout)
        except TimeoutError:
            return False
        return True
