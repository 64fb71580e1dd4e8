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
from typing import Any

from nats_pubsub.connection.core import Connection
from nats_pubsub.connection.js_consumers import PullConsumer, bind_durable
from nats_pubsub.connection.js_streams import JetStream, provision, retry_busy
from nats_pubsub.domain.stats import ConsumeStats
from nats_pubsub.domain.stream_rules import DEFAULT_STREAMS
from nats_pubsub.lifecycle import wait_for_end, wait_or_stop
from nats_pubsub.logs.logger import Logger
from nats_pubsub.services.js_consume import ConsumeOptions, FetchLoop, Handler

__all__ = ["Inbox"]


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
        deadline: float | None = None,
    ) -> dict[str, Any]:
        """A durable consumer with `options` (one subject: its filter; done after `limit`
        messages), else subscriptions; returns the stream, durable and start it bound (empty
        for core NATS). JetStream's setup is retried while it is busy, until `stop` is set or
        the monotonic `deadline` passes."""
        if options is None:
            await self.subscribe(subjects, queue, handler, headers=headers)
            return {}
        if len(subjects) != 1:
            raise ValueError("with --jetstream, give one --subject (the consumer's filter)")
        return await self.consume(options, subjects[0], handler, stop, limit, deadline)

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
        deadline: float | None = None,
    ) -> dict[str, Any]:
        """JetStream: bind a durable consumer and start the fetch loop; returns what it bound.
        Each setup step is retried while JetStream is busy, until `stop` or `deadline`."""
        js = JetStream(self._conn, self._log)
        spec = await provision(
            js, options.stream, options.configured, until=stop, deadline=deadline
        )
        limits = options.configured
        log = self._log
        dlq = DEFAULT_STREAMS["DLQ"].with_limits(replicas=options.replicas)
        await retry_busy(
            lambda: js.ensure_stream(dlq, limits & {"replicas"}),
            log,
            "stream DLQ",
            until=stop,
            deadline=deadline,
        )
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
            until=stop,
            deadline=deadline,
        )
        self.stats = ConsumeStats()
        self._consumer = consumer
        loop = FetchLoop(js, consumer, options, handler, self.stats, self._log)
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
