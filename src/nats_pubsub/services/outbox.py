"""Where a publisher's messages go: core NATS (fire and forget) or JetStream (acked, windowed)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, Generic, NamedTuple, TypeVar

from nats_pubsub.connection.ack_window import AckWindow
from nats_pubsub.connection.core import Connection
from nats_pubsub.connection.fast_ingest import BatchWindow
from nats_pubsub.connection.frame_queue import FrameQueue
from nats_pubsub.connection.js_streams import JetStream, provision, retry_busy
from nats_pubsub.connection.pub_ack import PubAckInfo
from nats_pubsub.domain.stream_rules import StreamSpec, dedupe_id, new_run_id
from nats_pubsub.errors import NatsError
from nats_pubsub.logs.logger import Logger

__all__ = [
    "BatchAckedCallback",
    "FailedCallback",
    "Outbox",
    "PubAckInfo",
    "PublishOptions",
    "SentCallback",
    "js_fields",
]

C = TypeVar("C")
SentCallback = Callable[[C, PubAckInfo | None], None]
FailedCallback = Callable[[C, str], None]
BatchAckedCallback = Callable[[list[C], PubAckInfo], None]


class PublishOptions(NamedTuple):
    """JetStream publishing: the stream, and the window of publishes awaiting acks."""

    stream: StreamSpec
    configured: frozenset[str]  # the stream limits set for this service, enforced
    window: int
    ack_timeout: float
    give_up_after: float | None  # seconds a message may go unacknowledged (None: for ever)
    fast_ingest: bool


class Outbox(Generic[C]):
    """Publishes messages and reports each one as sent (with its ack in JetStream) or failed."""

    def __init__(
        self,
        conn: Connection,
        on_sent: SentCallback[C],
        on_failed: FailedCallback[C],
        window: AckWindow | BatchWindow | None = None,
        run_id: str | None = None,
    ) -> None:
        self._conn = conn
        self._on_sent = on_sent
        self._on_failed = on_failed
        self._window = window
        self.run_id = run_id
        self._frames = window.frames if window is not None else FrameQueue(conn)
        # dedupe_id(msg_id, run_id) is msg_id + this suffix
        self._dedupe_suffix = dedupe_id("", run_id) if run_id is not None else ""

    @classmethod
    async def open(
        cls,
        options: PublishOptions | None,
        conn: Connection,
        log: Logger,
        on_sent: SentCallback[C],
        on_failed: FailedCallback[C],
        on_batch_acked: BatchAckedCallback[C] | None = None,
        until: asyncio.Event | None = None,
    ) -> Outbox[C]:
        """Core NATS, or with --jetstream a provisioned stream and an ack window (per message,
        or with --fast-ingest per batch: then `on_batch_acked`, if given, reports the messages
        each ack covers, in place of one `on_sent` each). The stream's setup is retried while
        JetStream is busy, until `until` (the service's stop event) is set."""
        if options is None:
            return cls(conn, on_sent, on_failed)
        js = JetStream(conn, log)
        spec = await provision(js, options.stream, options.configured, until=until)
        window: AckWindow | BatchWindow
        if options.fast_ingest:
            name = spec.name
            await retry_busy(
                lambda: js.enable_fast_ingest(name), log, f"stream {name}", until=until
            )
            window = BatchWindow(
                conn,
                stream=spec.name,
                flow=options.window,
                ack_timeout=options.ack_timeout,
                give_up_after=options.give_up_after,
                on_acks=on_batch_acked or _each(on_sent),
                on_fail=on_failed,
                log=log,
            )
        else:
            window = AckWindow(
                conn,
                window=options.window,
                ack_timeout=options.ack_timeout,
                give_up_after=options.give_up_after,
                on_ack=on_sent,
                on_fail=on_failed,
                log=log,
            )
        await window.start()
        run_id = new_run_id()
        log.info(
            "JetStream publishing",
            stream=spec.name,
            window=options.window,
            fast_ingest=options.fast_ingest,
            ack_timeout_seconds=options.ack_timeout,
            run_id=run_id,
            dedupe_id_format="{message_id}@{run_id}",
        )
        return cls(conn, on_sent, on_failed, window, run_id)

    @property
    def retries(self) -> int:
        """Publishes sent again (JetStream only): after an ack timeout, a transient refusal
        (no responders during an election, JetStream unavailable) or a failed send."""
        return self._window.retried if self._window is not None else 0

    async def send(self, subject: str, payload: bytes, msg_id: str, context: C) -> None:
        """Publish one message; its outcome arrives through the callbacks."""
        window = self._window
        if window is None:
            try:
                await self._conn.publish_with_id(subject, payload, msg_id)
            except NatsError as exc:
                self._on_failed(context, str(exc))
            else:
                self._on_sent(context, None)
            return
        assert self.run_id is not None
        await window.publish(subject, payload, dedupe_id(msg_id, self.run_id), context)

    async def room(self, most: int) -> int:
        """How many messages `put` may take now, at most `most`; 0: use `send` instead.

        With JetStream, waits until the ack window has a free slot.
        """
        if self._window is not None:
            most = min(most, await self._window.room())
        return most if self._frames.is_open() else 0

    @property
    def max_payload(self) -> int:
        """The largest payload `put` takes (the server's limit); larger ones go through `send`."""
        return self._frames.max_payload

    def put(self, subject: str, payload: bytes, msg_id: str, context: C) -> None:
        """Collect one message for the next `flush`, as many as `room` allowed.

        In core NATS it is reported through `on_sent` at once and handed to the client by the
        next `flush` (called before anything else runs); with JetStream its ack reports it.
        """
        if self._window is not None:
            self._window.put(subject, payload, msg_id + self._dedupe_suffix, context)
            return
        self._frames.add_hpub(subject, msg_id, payload)
        self._on_sent(context, None)

    @property
    def dedupe_suffix(self) -> str:
        """What makes a message id its `Nats-Msg-Id` (JetStream; "" in core NATS)."""
        return self._dedupe_suffix

    @property
    def fast_ingest(self) -> BatchWindow | None:
        """With --fast-ingest, its batch window: `slot` and `put_run` may be used."""
        return self._window if isinstance(self._window, BatchWindow) else None

    @property
    def is_core(self) -> bool:
        """True in core NATS (no JetStream acks): `put_frames` may be used."""
        return self._window is None

    def put_frames(self, frames: bytes, messages: int, payload_bytes: int) -> None:
        """Collect prebuilt HPUB frames for the next `flush`, in core NATS, as many messages as
        `room` allowed; the caller reports them as sent."""
        if self._window is not None:
            raise RuntimeError("prebuilt frames bypass the JetStream ack window")
        self._frames.add(frames, payload_bytes, messages)

    async def flush(self) -> None:
        """Hand the messages collected by `put` to the client; lets other tasks run."""
        if self._window is not None:
            await self._window.flush()
        else:
            await self._frames.flush()
        await asyncio.sleep(0)

    async def close(self, log: Logger, timeout: float, until: asyncio.Event | None = None) -> None:
        """Wait for outstanding acks, flush, and drain the connection.

        With `until` (a --count run that ended by itself), every ack is waited for (each message
        is retried until acked or given up on) unless `until` is set meanwhile; otherwise for
        `timeout` seconds. What is still unacknowledged then is reported as failed.
        """
        window = self._window
        if window is not None and until is not None and not until.is_set():
            await _first(window.wait_all(None), until.wait())
        if window is not None and not await window.wait_all(timeout):
            log.warning("Acknowledgements still missing at exit", in_flight=window.in_flight)
            window.give_up("not acknowledged before exit")
        try:
            await self._conn.flush(timeout=timeout)
        except NatsError as exc:
            log.warning("Flush before exit did not complete", error=str(exc))
        await self._conn.drain()


async def _first(*waits: Coroutine[Any, Any, object]) -> None:
    """Return when the first of `waits` is done (the others are cancelled)."""
    tasks = [asyncio.ensure_future(wait) for wait in waits]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()


def _each(on_sent: SentCallback[C]) -> BatchAckedCallback[C]:
    """Report each message a batch ack covers through `on_sent`."""

    def on_acked(contexts: list[C], ack: PubAckInfo) -> None:
        for context in contexts:
            on_sent(context, ack)

    return on_acked


def js_fields(ack: PubAckInfo | None) -> dict[str, Any]:
    """The JetStream fields of a published-message record (none in core mode)."""
    if ack is None:
        return {}
    if ack.batch:
        return {"js_stream": ack.stream, "js_batch": ack.batch}
    return {"js_stream": ack.stream, "js_sequence": ack.sequence, "duplicate": ack.duplicate}
