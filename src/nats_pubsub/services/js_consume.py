"""A durable JetStream consumer's side of an inbox (inbox.py): the handler's shape, the
consumer's options, and the fetch loop that settles each delivery (ack, nak with a backoff, or
dead-letter to `dlq.<stream>`).
"""

from __future__ import annotations

import asyncio
from typing import Any, NamedTuple, Protocol

from nats_pubsub.connection.js_consumers import JsDelivery, PullConsumer
from nats_pubsub.connection.js_streams import JetStream
from nats_pubsub.domain.redelivery import RecentDeliveries
from nats_pubsub.domain.stats import ConsumeStats
from nats_pubsub.domain.stream_rules import (
    DLQ_PREFIX,
    Outcome,
    ReplayStart,
    StreamSpec,
    backoff_delay,
    decide,
)
from nats_pubsub.domain.timeutil import format_ns
from nats_pubsub.errors import NatsError
from nats_pubsub.logs.logger import Logger

__all__ = ["ConsumeOptions", "FetchLoop", "Handler", "js_record_fields"]


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


class FetchLoop:
    """A durable consumer's messages fetched in batches, each one handled, then acked, nak'ed
    with a backoff or dead-lettered; a redelivery of one this process already handled is acked
    again and reported, not handled twice."""

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
