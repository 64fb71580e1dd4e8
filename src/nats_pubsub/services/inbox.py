"""Where a consumer's messages come from: core subscriptions, or a durable JetStream consumer.

Either way each message goes to one handler, a plain function (no coroutine per message) called
as `handler(subject, reply, data, headers, extra)`, which returns None when it is done with it or
a reason when it failed. Core messages reach it through the connection's direct path. With
JetStream the reason decides the ack: a failure is retried with a backoff (`--on-invalid retry`)
or copied to `dlq.<stream>` at once (`dead-letter`), and a message that is still failing at its
last delivery (`--max-deliver`) is dead-lettered too.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple, Protocol

from nats_pubsub.connection.core import Connection
from nats_pubsub.connection.js_consumers import JsDelivery, PullConsumer, bind_durable
from nats_pubsub.connection.js_streams import JetStream, provision, retry_busy
from nats_pubsub.domain.redelivery import RecentDeliveries
from nats_pubsub.domain.stats import ConsumeStats
from nats_pubsub.domain.stream_rules import (
    DEFAULT_STREAMS,
    DLQ_PREFIX,
    Outcome,
    ReplayStart,
    StreamSpec,
    backoff_delay,
    decide,
)
from nats_pubsub.domain.timeutil import format_ns
from nats_pubsub.errors import NatsError
from nats_pubsub.lifecycle import wait_for_end, wait_or_stop
from nats_pubsub.logs.logger import Logger

__all__ = ["ConsumeOptions", "Handler", "Inbox", "js_record_fields"]


class Handler(Protocol):
    """handler(subject, reply, data, headers, extra): None when the message is done with, else
    why it failed. `headers` is None unless asked for; `extra` holds fields for the record."""

    def __call__(
        self,
        subject: str,
        reply: str,
        data: bytes,
        headers: dict[str, str] | None,
        extra: dict[str, Any] | None = None,
        /,
    ) -> str | None: ...


class ConsumeOptions(NamedTuple):
    """A durable JetStream consumer: its stream, name, start, and what happens to a failure."""

    stream: StreamSpec
    configured: frozenset[str]  # the stream limits set for this service, enforced
    replicas: int  # of the DLQ stream too
    durable: str
    start: ReplayStart
    start_given: bool  # an explicit start: a durable with another one is recreated
    ack_wait: float
    max_deliver: int
    fetch_batch: int
    retry_invalid: bool  # --on-invalid retry: nak with backoff; else dead-letter at once


_FETCH_WAIT = 1.0  # seconds a fetch waits for messages before the loop looks at `stop` again


def js_record_fields(delivery: JsDelivery) -> dict[str, Any]:
    """The js_* fields added to a record about a JetStream delivery."""
    meta = delivery.meta
    if meta is None:
        return {}
    return {
        "js_stream": meta.stream,
        "js_sequence": meta.stream_seq,
        "js_timestamp": format_ns(meta.timestamp_ns),
        "js_pending": meta.pending,
        "js_delivered": meta.delivered,
    }


class Inbox:
    """A running source of messages feeding one handler; `close()` drains it."""

    def __init__(self, conn: Connection, log: Logger) -> None:
        self._conn = conn
        self._log = log
        self._task: asyncio.Task[None] | None = None
        self._consumer: PullConsumer | None = None
        self.stats: ConsumeStats | None = None

    async def start(
        self,
        options: ConsumeOptions | None,
        subjects: Sequence[str],
        queue: str | None,
        handler: Handler,
        stop: asyncio.Event,
        *,
        headers: bool = False,
        limit: int | None = None,
    ) -> dict[str, Any]:
        """A durable consumer with `options` (one subject: its filter; done after `limit`
        messages), else subscriptions; returns the stream, durable and start it bound (empty
        for core NATS)."""
        if options is None:
            await self.subscribe(subjects, queue, handler, headers=headers)
            return {}
        if len(subjects) != 1:
            raise ValueError("with --jetstream, give one --subject (the consumer's filter)")
        return await self.consume(options, subjects[0], handler, stop, limit)

    async def subscribe(
        self,
        subjects: Sequence[str],
        queue: str | None,
        handler: Handler,
        *,
        headers: bool = False,
    ) -> None:
        """Core NATS: subscribe to each subject (optionally in a queue group)."""
        for subject in subjects:
            await self._conn.subscribe_direct(subject, handler, queue, headers=headers)
        # Make sure the server has our subscriptions before we say we are ready.
        await self._conn.flush()

    async def consume(
        self,
        options: ConsumeOptions,
        subject: str,
        handler: Handler,
        stop: asyncio.Event,
        limit: int | None,
    ) -> dict[str, Any]:
        """JetStream: bind a durable consumer and start the fetch loop; returns what it bound."""
        js = JetStream(self._conn, self._log)
        spec = await provision(js, options.stream, options.configured)
        limits = options.configured
        log = self._log
        dlq = DEFAULT_STREAMS["DLQ"].with_limits(replicas=options.replicas)
        await retry_busy(lambda: js.ensure_stream(dlq, limits & {"replicas"}), log, "stream DLQ")
        name, start = options.durable, options.start
        consumer = await retry_busy(
            lambda: bind_durable(
                js,
                stream=spec.name,
                name=name,
                filter_subject=None if subject == ">" else subject,
                start=start,
                start_given=options.start_given,
                ack_wait=options.ack_wait,
                max_deliver=options.max_deliver,
            ),
            log,
            f"consumer {name}",
        )
        self.stats = ConsumeStats()
        self._consumer = consumer
        loop = _FetchLoop(js, consumer, options, handler, self.stats, self._log)
        self._task = asyncio.create_task(loop.run(stop, limit))
        return {"stream": spec.name, "durable": name, "start": start.text}

    async def serve(
        self,
        stop: asyncio.Event,
        reached: asyncio.Event,
        timeout: float | None,
        interval: float,
        metrics_text: str,
        metrics: Callable[[], dict[str, Any]],
    ) -> bool:
        """Run until stopped, `reached` or `timeout` (a metrics record every `interval` s), then
        drain and write the final metrics record; True when the timeout ended it."""

        def snapshot() -> dict[str, Any]:
            fields = metrics()
            if self.stats is not None:
                fields.update(self.stats.snapshot())
            return fields

        async def report() -> None:
            while not await wait_or_stop(stop, interval):
                self._log.info(metrics_text, **snapshot())

        reporter = asyncio.create_task(report())
        timed_out = await wait_for_end(stop, reached, timeout)
        stop.set()  # ends the JetStream fetch loop after its current batch
        reporter.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await reporter
        await self.close()
        self._log.info(metrics_text, final=True, **snapshot())
        return timed_out

    def outcome(
        self, timed_out: bool, done: int, count: int | None, timeout: float | None, done_as: str
    ) -> int:
        """The exit code after `serve`: 1, with an error record naming the caller, when the
        timeout came before `count` messages were done (`done` of them, as field `done_as`)."""
        if not timed_out or count is None or done >= count:
            return 0
        fields = {done_as: done, "expected": count, "timeout_seconds": timeout}
        self._log.log("ERROR", "Timed out before --count was reached", fields, 2)
        return 1

    async def close(self) -> None:
        """Let the fetch loop finish its batch (every message acked or naked), then drain.

        The pull subscription is dropped first, not drained: what it holds was never handed
        out (the server redelivers it), and nats-py's fetch takes messages off its queue without
        marking them done, so draining it would wait out the whole drain timeout.
        """
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._consumer is not None:
            await self._consumer.unsubscribe()
        await self._conn.drain()


class _FetchLoop:
    def __init__(
        self,
        js: JetStream,
        consumer: PullConsumer,
        options: ConsumeOptions,
        handler: Handler,
        stats: ConsumeStats,
        log: Logger,
    ) -> None:
        self._js = js
        self._consumer = consumer
        self._options = options
        self._handler = handler
        self._stats = stats
        self._log = log
        self._recent = RecentDeliveries()

    async def run(self, stop: asyncio.Event, limit: int | None) -> None:
        batch = self._options.fetch_batch
        done = 0
        while not stop.is_set() and (limit is None or done < limit):
            want = batch if limit is None else min(batch, limit - done)
            try:
                deliveries = await self._consumer.fetch(want, _FETCH_WAIT)
            except NatsError as exc:
                self._log.warning("Fetch failed; retrying", error=str(exc))
                await asyncio.sleep(_FETCH_WAIT)
                continue
            for delivery in deliveries:
                if await self._settle(delivery):
                    done += 1

    async def _settle(self, delivery: JsDelivery) -> bool:
        """Process one delivery and ack, nak or dead-letter it; True when it is done with."""
        meta = delivery.meta
        delivered = meta.delivered if meta else 1
        if delivered > 1:
            self._stats.redelivered += 1
        # Also with a delivery count of 1: a server that lost the count may deliver again.
        if meta is not None and self._recent.processed(meta.stream, meta.stream_seq):
            await self._duplicate(delivery)
            return False
        try:
            reason = self._handler(
                delivery.subject,
                delivery.reply,
                delivery.data,
                delivery.headers,
                js_record_fields(delivery),
            )
        except Exception as exc:  # any processing failure is retried, never fatal
            reason = f"processing failed: {type(exc).__name__}: {exc}"
            outcome = Outcome.RETRY
        else:
            retry = self._options.retry_invalid
            outcome = (
                Outcome.ACK if reason is None else Outcome.RETRY if retry else Outcome.DEAD_LETTER
            )
        action = decide(outcome, delivered, self._options.max_deliver)
        try:
            if action == Outcome.ACK:
                await delivery.ack()
                self._stats.acked += 1
                if meta is not None:
                    self._recent.add(meta.stream, meta.stream_seq)
                return True
            if action == Outcome.RETRY:
                await delivery.nak(backoff_delay(delivered))
                self._stats.naked += 1
                return False
            await self._dead_letter(delivery, reason or "unknown", delivered)
            await delivery.term()
            return True
        except NatsError as exc:
            self._log.warning(
                "Could not settle message", error=str(exc), **js_record_fields(delivery)
            )
            return False

    async def _duplicate(self, delivery: JsDelivery) -> None:
        """A redelivery of a message this process processed (its ack was lost or late): acked
        again and reported, not processed or counted twice."""
        try:
            await delivery.ack()
        except NatsError as exc:
            self._log.warning(
                "Could not settle message", error=str(exc), **js_record_fields(delivery)
            )
            return
        self._stats.duplicates += 1
        self._log.info(
            "Duplicate delivery",
            subject=delivery.subject,
            duplicate=True,
            note="processed before by this consumer; acked again",
            **js_record_fields(delivery),
        )

    async def _dead_letter(self, delivery: JsDelivery, reason: str, delivered: int) -> None:
        meta = delivery.meta
        stream = meta.stream if meta else self._consumer.stream
        seq = meta.stream_seq if meta else 0
        subject = f"{DLQ_PREFIX}.{stream}"
        headers = {
            "Nats-Msg-Id": f"dlq-{stream}-{seq}",
            "Nats-Pubsub-Reason": reason[:500],
            "Nats-Pubsub-Subject": delivery.subject,
            "Nats-Pubsub-Stream-Seq": str(seq),
            "Nats-Pubsub-Delivered": str(delivered),
        }
        await self._js.publish_copy(subject, delivery.data, headers)
        self._stats.dead_lettered += 1
        self._log.warning(
            "Message dead-lettered",
            dlq_subject=subject,
            reason=reason,
            subject=delivery.subject,
            **js_record_fields(delivery),
        )
