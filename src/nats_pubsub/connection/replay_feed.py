"""A stream's history, in order and fast: an ephemeral pull consumer read through direct delivery.

Batches are pulled (the next request sent before the current batch is used up) to an inbox read
with `Connection.subscribe_direct`; the consumer has no acks; sequence, time and pending count
come from each delivery's `$JS.ACK` reply. As in nats-py's ordered consumer, the consumer
sequence must grow by one: a gap, a reconnect, a lost consumer (409, 503) or three silent
heartbeats replace the consumer with one starting after the last sequence handed over, so a
replay resumes and neither skips nor repeats; what cannot resume fails loudly.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Coroutine
from typing import Any

from nats_pubsub.connection.core import Connection
from nats_pubsub.connection.js_consumers import (
    create_replay_consumer,
    delete_consumer,
    request_next,
)
from nats_pubsub.connection.js_streams import JetStream
from nats_pubsub.domain.stream_rules import ReplayStart, parse_ack_reply
from nats_pubsub.errors import JetStreamError, NatsError

__all__ = ["MessageSink", "ReplayFeed", "ack_fields"]

# on_message(subject, headers, data, stream_seq, timestamp_ns, pending): a plain function.
MessageSink = Callable[[str, dict[str, str] | None, bytes, int, int, int], None]

_NEVER = "\0"  # a reply prefix no delivery has: deliveries are ignored while it is set
_MAX_RESETS_WITHOUT_PROGRESS = 5
_RECREATE_FOR = 60.0  # seconds to keep trying to recreate a lost consumer


def ack_fields(reply: str, prefix: str) -> tuple[int, int, int, int] | None:
    """(stream seq, consumer seq, timestamp ns, pending) from a `$JS.ACK` reply of one consumer.

    `prefix` is `$JS.ACK.<stream>.<consumer>.`; a reply in another form (v2, with a domain and
    account hash) is read by `stream_rules.parse_ack_reply`. None when it is not this consumer's.
    """
    if reply.startswith(prefix):
        fields = reply[len(prefix) :].split(".")
        if len(fields) == 5:
            try:
                return int(fields[1]), int(fields[2]), int(fields[3]), int(fields[4])
            except ValueError:
                return None
    meta = parse_ack_reply(reply)
    if meta is None or f"$JS.ACK.{meta.stream}.{meta.consumer}." != prefix:
        return None
    return meta.stream_seq, meta.consumer_seq, meta.timestamp_ns, meta.pending


class ReplayFeed:
    """Hands a stream's messages from `start` to `on_message`, in order, each once."""

    def __init__(
        self,
        conn: Connection,
        js: JetStream,
        stream: str,
        filter_subject: str | None,
        start: ReplayStart,
        on_message: MessageSink,
        *,
        follow: bool = False,
        batch: int = 4000,
        heartbeat: float = 2.0,
        expires: float = 30.0,
    ) -> None:
        self._conn, self._js, self._stream = conn, js, stream
        self._filter, self._start, self._on_message = filter_subject, start, on_message
        self._follow, self._batch = follow, batch
        self._heartbeat, self._expires = heartbeat, expires
        self._inbox = self._reply = self._consumer = ""  # reply: <inbox>.<generation>
        self._generation = 0
        self._prefix = _NEVER  # "$JS.ACK.<stream>.<consumer>." while delivering
        self._consumer_seq = self._outstanding = 0  # outstanding: asked for, not yet delivered
        self._paused = self._resetting = False
        self._resets_without_progress = self._delivered_at_reset = self._heartbeats = 0
        self.last_seq = self.delivered = 0  # the last stream sequence handed over; how many
        self._done = asyncio.Event()
        self._error: NatsError | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def open(self) -> int:
        """Create the consumer and start pulling; how many messages it has for us now."""
        self._inbox = self._js.new_inbox()
        await self._conn.subscribe_direct(f"{self._inbox}.*", self._deliver, headers=True)
        pending = await self._adopt(self._start)
        self._top_up()
        self._spawn(self._watch())
        return pending

    async def wait(self, stop: asyncio.Event) -> None:
        """Until the history was handed over (following: until `stop`); raises on failure."""
        waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self._done.wait())]
        try:
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()
        if self._error is not None:
            raise self._error

    def pause(self) -> None:
        """Ask for no more messages until `resume` (what was asked for still arrives)."""
        self._paused = True

    def resume(self) -> None:
        """Ask for messages again."""
        self._paused = False
        self._top_up()

    async def close(self) -> None:
        """Stop delivering and delete the consumer."""
        self._prefix = _NEVER
        for task in list(self._tasks):
            task.cancel()
        if self._consumer and self._conn.is_connected:
            await self._forget(self._consumer)

    # -- delivery (called by the direct router, in order, on the event loop) --

    def _deliver(
        self, subject: str, reply: str, data: bytes, headers: dict[str, str] | None
    ) -> None:
        prefix = self._prefix
        fields = reply[len(prefix) :].split(".") if reply.startswith(prefix) else []
        if len(fields) == 5:  # delivered count, stream seq, consumer seq, time, pending
            seq, consumer_seq = int(fields[1]), int(fields[2])
            timestamp_ns, pending = int(fields[3]), int(fields[4])
        elif reply.startswith("$JS.ACK."):
            numbers = ack_fields(reply, prefix)
            if numbers is None:
                return  # a replaced consumer's, or delivered after the end
            seq, consumer_seq, timestamp_ns, pending = numbers
        else:
            if subject == self._reply and headers is not None and not reply:
                self._status(headers)
            return
        if consumer_seq != self._consumer_seq + 1:
            self._reset_soon(f"consumer sequence {consumer_seq} after {self._consumer_seq}")
            return
        self._consumer_seq = consumer_seq
        self._outstanding -= 1
        if self._outstanding <= self._batch:
            self._top_up()
        if seq <= self.last_seq:
            return  # already handed over (cannot happen with one consumer; defensive)
        self.last_seq = seq
        self.delivered += 1
        try:
            self._on_message(subject, headers, data, seq, timestamp_ns, pending)
        except Exception as exc:  # e.g. the output is gone: stop, loudly
            self.fail(NatsError(f"writing message {seq} failed: {exc}"))
            return
        if pending == 0 and not self._follow:
            self._finish()

    def _status(self, headers: dict[str, str]) -> None:
        code = headers.get("Status")
        if code == "100":
            self._heartbeats += 1
            return
        description = str(headers.get("Description", "")).split("\n")[0].strip()
        if code in ("404", "408") or description.startswith(("Batch Completed", "Message Size")):
            # A request ended (expired, or on its byte limit) with messages not delivered.
            left = headers.get("Nats-Pending-Messages", "")
            self._outstanding -= int(left) if left.isdigit() else self._batch
            self._outstanding = max(self._outstanding, 0)
            self._top_up()
        elif code is not None:  # 409 (consumer deleted, leader change), 503 (consumer gone)
            self._reset_soon(f"status {code} {description}".strip())

    # -- asking for messages --

    def _top_up(self) -> None:
        """Keep one to two batches asked for, unless paused, resetting or finished."""
        while (
            self._outstanding <= self._batch
            and not self._paused
            and not self._resetting
            and self._prefix != _NEVER
        ):
            self._outstanding += self._batch
            self._spawn(self._request(self._consumer, self._reply))

    async def _request(self, consumer: str, reply: str) -> None:
        try:
            await request_next(
                self._js,
                self._stream,
                consumer,
                reply,
                batch=self._batch,
                expires=self._expires,
                heartbeat=self._heartbeat,
            )
        except NatsError as exc:
            if self._conn.is_connected:
                self.fail(exc)
            # else: the reconnect replaces the consumer and asks again (`_watch`)

    # -- resuming --

    async def _adopt(self, start: ReplayStart) -> int:
        """Create a consumer from `start` and make it the one delivering."""
        name, pending = await create_replay_consumer(
            self._js, self._stream, self._filter, start, inactive_threshold=self._expires * 2
        )
        self._generation += 1
        self._reply = f"{self._inbox}.{self._generation}"
        self._consumer = name
        self._consumer_seq = 0
        self._outstanding = 0
        self._prefix = f"$JS.ACK.{self._stream}.{name}."
        if pending == 0 and not self._follow:
            self._finish()
        return pending

    def _reset_soon(self, reason: str) -> None:
        if not self._resetting and self._prefix != _NEVER:
            self._spawn(self._reset(reason))

    async def _reset(self, reason: str) -> None:
        if self._resetting or self._prefix == _NEVER:
            return
        self._resetting = True
        old, self._prefix = self._consumer, _NEVER
        if self.delivered > self._delivered_at_reset:
            self._resets_without_progress = 0
        self._delivered_at_reset = self.delivered
        self._resets_without_progress += 1
        if self._resets_without_progress > _MAX_RESETS_WITHOUT_PROGRESS:
            self.fail(JetStreamError(f"replay cannot continue after {self.last_seq}: {reason}"))
            return
        start = (
            ReplayStart("by_start_sequence", start_sequence=self.last_seq + 1)
            if self.last_seq
            else self._start
        )
        self._js.log.warning(
            "Replay consumer replaced",
            stream=self._stream,
            reason=reason,
            resume_sequence=self.last_seq + 1 if self.last_seq else None,
        )
        loop = asyncio.get_running_loop()
        deadline = loop.time() + _RECREATE_FOR
        while True:
            try:
                await self._adopt(start)
                break
            except NatsError as exc:
                if loop.time() > deadline:
                    self.fail(JetStreamError(f"replay could not resume: {exc}"))
                    return
                await asyncio.sleep(0.5)
        self._resetting = False
        self._top_up()
        self._spawn(self._forget(old))

    async def _forget(self, consumer: str) -> None:
        with contextlib.suppress(NatsError):
            await delete_consumer(self._js, self._stream, consumer)

    async def _watch(self) -> None:
        """Reset after a reconnect, or when neither messages nor heartbeats arrive."""
        reconnects = self._conn.reconnects
        mark, quiet = -1, 0
        while True:
            await asyncio.sleep(self._heartbeat)
            if self._conn.reconnects != reconnects:
                reconnects = self._conn.reconnects
                await self._reset("reconnected")
                continue
            now = self.delivered + self._heartbeats
            if now != mark or self._outstanding <= 0 or not self._conn.is_connected:
                mark, quiet = now, 0
                continue
            quiet += 1
            if quiet >= 3:
                quiet = 0
                await self._reset(f"no messages or heartbeats for {3 * self._heartbeat:g} s")

    def _finish(self) -> None:
        self._prefix = _NEVER
        self._done.set()

    def fail(self, error: NatsError) -> None:
        """End the replay with `error` (raised by `wait`)."""
        if self._error is None:
            self._error = error
        self._finish()

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
