"""JetStream consumers, part of the connection layer: durable pull consumers, replay consumers.

Deliveries reach services as `JsDelivery` objects (subject, data, headers, metadata, ack/nak/term);
nats-py errors are mapped through `js_streams.map_js_error`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from typing import Any

import nats.errors as nerr
import nats.js.errors as jerr
from nats.js import api

from nats_pubsub.connection.js_streams import JS_ERRORS, JetStream, map_js_error
from nats_pubsub.domain.stream_rules import JsMeta, ReplayStart, parse_ack_reply

__all__ = [
    "JsDelivery",
    "PullConsumer",
    "bind_durable",
    "create_replay_consumer",
    "delete_consumer",
    "request_next",
]


class JsDelivery:
    """A message delivered by a JetStream consumer, with its metadata and ack operations."""

    __slots__ = ("_msg", "data", "headers", "meta", "reply", "subject")

    def __init__(self, msg: Any) -> None:
        self._msg = msg
        self.subject: str = msg.subject
        self.data: bytes = msg.data
        self.reply: str = ""  # the ack subject is not a reply anyone should answer
        self.headers: dict[str, str] | None = msg.headers
        self.meta: JsMeta | None = parse_ack_reply(msg.reply)

    async def ack(self) -> None:
        """Acknowledge: processing is done."""
        await self._msg.ack()

    async def nak(self, delay: float) -> None:
        """Ask for redelivery after `delay` seconds."""
        await self._msg.nak(delay=delay)

    async def term(self) -> None:
        """Stop redelivering this message."""
        await self._msg.term()


class PullConsumer:
    """A durable pull consumer bound to a stream."""

    def __init__(self, sub: Any, stream: str, name: str) -> None:
        self._sub = sub
        self.stream = stream
        self.name = name

    async def fetch(self, batch: int, timeout: float) -> list[JsDelivery]:
        """Up to `batch` deliveries, waiting at most `timeout` seconds for the first."""
        try:
            msgs = await self._sub.fetch(batch, timeout=timeout)
        except (TimeoutError, nerr.TimeoutError):
            return []
        except JS_ERRORS as exc:
            raise map_js_error(exc) from exc
        return [JsDelivery(m) for m in msgs]

    async def unsubscribe(self) -> None:
        """Stop receiving for this binding (the consumer itself stays on the server)."""
        with contextlib.suppress(*JS_ERRORS):
            await self._sub.unsubscribe()


def _consumer_config(
    name: str, filter_subject: str | None, start: ReplayStart, ack_wait: float, max_deliver: int
) -> api.ConsumerConfig:
    config = api.ConsumerConfig(
        durable_name=name,
        ack_policy=api.AckPolicy.EXPLICIT,
        ack_wait=ack_wait,
        max_deliver=max_deliver,
        filter_subject=filter_subject,
        deliver_policy=api.DeliverPolicy(start.policy),
    )
    if start.start_sequence is not None:
        config.opt_start_seq = start.start_sequence
    if start.start_time_ns is not None:
        config.opt_start_time = dt.datetime.fromtimestamp(start.start_time_ns / 1e9, dt.UTC)
    return config


def _start_of(info: Any) -> tuple[str, int | None, str | None]:
    cfg = info.config
    policy = getattr(cfg.deliver_policy, "value", cfg.deliver_policy) or "all"
    return str(policy), cfg.opt_start_seq, cfg.filter_subject or None


async def bind_durable(
    js: JetStream,
    *,
    stream: str,
    name: str,
    filter_subject: str | None,
    start: ReplayStart,
    start_given: bool,
    ack_wait: float,
    max_deliver: int,
) -> PullConsumer:
    """Bind to durable `name`, creating it (or recreating it for a new start) as needed."""
    wanted = _consumer_config(name, filter_subject, start, ack_wait, max_deliver)
    try:
        try:
            info = await js.manager.consumer_info(stream, name)
        except jerr.NotFoundError:
            info = None
        if info is not None:
            have = _start_of(info)
            want = (start.policy, start.start_sequence, filter_subject)
            # A start time is relative to when it was asked for: any explicit one is new.
            changed_start = start_given and (
                have[:2] != want[:2] or start.policy == "by_start_time"
            )
            if changed_start or have[2] != want[2]:
                await js.manager.delete_consumer(stream, name)
                js.log.warning(
                    "Consumer recreated",
                    stream=stream,
                    consumer=name,
                    was={"start": have[0], "start_sequence": have[1], "filter": have[2]},
                    now={"start": start.text, "filter": filter_subject},
                    note="JetStream cannot change a durable's start; its position was reset",
                )
                info = None
        if info is None:
            await js.manager.add_consumer(stream, wanted)
            js.log.info("Consumer created", stream=stream, consumer=name, start=start.text)
        sub = await js.context.pull_subscribe_bind(durable=name, stream=stream)
    except JS_ERRORS as exc:
        raise map_js_error(exc) from exc
    return PullConsumer(sub, stream, name)


async def create_replay_consumer(
    js: JetStream,
    stream: str,
    filter_subject: str | None,
    start: ReplayStart,
    *,
    inactive_threshold: float,
) -> tuple[str, int]:
    """An ephemeral pull consumer without acks, reading `stream` from `start`.

    Returns its name and how many (matching) messages it has to deliver. Nothing is left on the
    server: the consumer is deleted by `delete_consumer`, or by the server after
    `inactive_threshold` seconds without pull requests.
    """
    config = api.ConsumerConfig(
        ack_policy=api.AckPolicy.NONE,
        deliver_policy=api.DeliverPolicy(start.policy),
        filter_subject=filter_subject,
        inactive_threshold=inactive_threshold,
        mem_storage=True,
        num_replicas=1,
    )
    if start.start_sequence is not None:
        config.opt_start_seq = start.start_sequence
    if start.start_time_ns is not None:
        config.opt_start_time = dt.datetime.fromtimestamp(start.start_time_ns / 1e9, dt.UTC)
    try:
        info = await js.manager.add_consumer(stream, config)
    except JS_ERRORS as exc:
        raise map_js_error(exc) from exc
    return str(info.name), int(info.num_pending or 0)


async def request_next(
    js: JetStream,
    stream: str,
    consumer: str,
    reply: str,
    *,
    batch: int,
    expires: float,
    heartbeat: float,
) -> None:
    """Ask pull consumer `consumer` for up to `batch` messages, delivered to `reply`."""
    body = (
        f'{{"batch":{batch},"expires":{int(expires * 1e9)},'
        f'"idle_heartbeat":{int(heartbeat * 1e9)}}}'
    )
    subject = f"{js.api_prefix}.CONSUMER.MSG.NEXT.{stream}.{consumer}"
    await js.send_request(subject, body.encode(), reply)


async def delete_consumer(js: JetStream, stream: str, consumer: str) -> None:
    """Delete a consumer; one that is already gone is fine."""
    try:
        await js.manager.delete_consumer(stream, consumer)
    except jerr.NotFoundError:
        return
    except JS_ERRORS as exc:
        raise map_js_error(exc) from exc
