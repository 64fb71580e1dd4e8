"""Acknowledged JetStream publishing with a bounded window of messages in flight.

Part of the connection layer (it drives the nats-py client directly): each publish carries a reply
subject under one inbox subscription; acks are decoded with msgspec and matched by token; one timer
walks the oldest pending publishes and retries those past the ack timeout with the same
`Nats-Msg-Id`, so the stream never stores a retry twice. No future, task or timer per message.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import msgspec

from nats_pubsub.connection import Connection
from nats_pubsub.errors import NatsError
from nats_pubsub.logs import Logger

__all__ = ["AckWindow", "PubAckInfo"]

_RETRY_WARN_EVERY = 5.0  # seconds between "Acknowledgement timed out" warnings


class PubAckInfo:
    """The server's acknowledgement of a JetStream publish."""

    __slots__ = ("duplicate", "sequence", "stream")

    def __init__(self, stream: str, sequence: int, duplicate: bool) -> None:
        self.stream = stream
        self.sequence = sequence
        self.duplicate = duplicate


class _ApiError(msgspec.Struct):
    code: int = 0
    err_code: int = 0
    description: str = ""


class _AckReply(msgspec.Struct):
    stream: str = ""
    seq: int = 0
    duplicate: bool = False
    error: _ApiError | None = None


_decode_ack = msgspec.json.Decoder(_AckReply).decode

AckCallback = Callable[[Any, PubAckInfo, int], None]
FailCallback = Callable[[Any, str], None]


class _Job:
    __slots__ = ("attempt", "context", "deadline", "headers", "payload", "subject")

    def __init__(self, subject: str, payload: bytes, headers: dict[str, str], context: Any) -> None:
        self.subject = subject
        self.payload = payload
        self.headers = headers
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
        self._nc = conn.client
        self._slots = asyncio.Semaphore(window)
        self._timeout = ack_timeout
        self._retries = retries
        self._on_ack = on_ack
        self._on_fail = on_fail
        self._log = log
        self._pending: dict[str, _Job] = {}  # token -> job, oldest deadline first
        self._next_token = 0
        self._prefix = ""
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
        try:
            await self._nc.subscribe(f"{self._prefix}.*", cb=self._on_reply)
        except Exception as exc:
            raise NatsError(f"could not subscribe for acks: {exc}") from exc

    async def publish(self, subject: str, payload: bytes, msg_id: str, context: Any) -> None:
        """Send one message; returns once it is in flight (waits for a free slot first)."""
        await self._slots.acquire()
        self._idle.clear()
        await self._send(_Job(subject, payload, {"Nats-Msg-Id": msg_id}, context))

    async def _send(self, job: _Job) -> None:
        self._next_token += 1
        token = str(self._next_token)
        job.deadline = time.monotonic() + self._timeout
        self._pending[token] = job
        try:
            await self._nc.publish(
                job.subject, job.payload, reply=f"{self._prefix}.{token}", headers=job.headers
            )
        except Exception as exc:
            self._pending.pop(token, None)
            self._finish(job, None, f"{type(exc).__name__}: {exc}")
            return
        if self._sweeper is None or self._sweeper.done():
            self._sweeper = asyncio.get_running_loop().create_task(self._sweep())

    async def _on_reply(self, msg: Any) -> None:
        job = self._pending.pop(msg.subject[len(self._prefix) + 1 :], None)
        if job is None:
            return  # the ack of an attempt that already timed out; its retry is in flight
        if msg.headers and msg.headers.get("Status") == "503":
            self._finish(job, None, "no stream stores this subject (no responders)")
            return
        try:
            reply = _decode_ack(msg.data)
        except msgspec.DecodeError:
            self._finish(job, None, f"unreadable acknowledgement: {msg.data[:80]!r}")
            return
        if reply.error is not None:
            self._finish(job, None, f"{reply.error.description} (code {reply.error.err_code})")
            return
        self._finish(job, PubAckInfo(reply.stream, reply.seq, reply.duplicate), None)

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
        self._slots.release()
        if ack is not None:
            self._on_ack(job.context, ack, job.attempt)
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
