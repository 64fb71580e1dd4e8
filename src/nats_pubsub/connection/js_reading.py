"""Reading a stream on request: its last N messages on a filter, a durable's next messages, a peek.

Part of the connection layer. `last_messages` finds the last `limit` messages matching a filter
with short-lived ephemeral consumers (no acks, in memory) whose pending count says how many
matching messages lie after their start; `pull_durable` fetches from an existing pull consumer
and acknowledges what it returns; `peek` reads what a consumer has still to finish by sequence,
through the stream's message API, so the consumer itself is not touched.
"""

from __future__ import annotations

import contextlib
from collections import deque
from typing import Any, Final, NamedTuple

from nats_pubsub.connection.core import Connection
from nats_pubsub.connection.js_admin import JsApi, StoredMessage
from nats_pubsub.connection.js_consumers import JsDelivery, PullConsumer
from nats_pubsub.connection.js_streams import JS_ERRORS, map_js_error
from nats_pubsub.domain.subjects import subject_matches
from nats_pubsub.errors import JetStreamError

__all__ = ["Fetched", "bind_pull", "last_messages", "peek", "pull_durable"]

_PROBE_THRESHOLD: Final = 30.0  # seconds an abandoned probe consumer lives on the server
_MAX_PROBES: Final = 24
_WIDEN: Final = 4
_MAX_SCAN_FACTOR: Final = 20  # peek with several filters: messages read per message wanted


class Fetched(NamedTuple):
    """A message read from a stream: subject, stream sequence, stored time (ns), payload."""

    subject: str
    seq: int
    time_ns: int
    data: bytes


def _fetched(delivery: JsDelivery) -> Fetched:
    meta = delivery.meta
    seq, stamp = (meta.stream_seq, meta.timestamp_ns) if meta else (0, 0)
    return Fetched(delivery.subject, seq, stamp, delivery.data)


async def _probe(api: JsApi, stream: str, subject: str, start: int) -> tuple[str, int]:
    """An ephemeral consumer from stream sequence `start` on `subject`: its name and pending."""
    info = await api.create_consumer(
        stream,
        {
            "deliver_policy": "by_start_sequence",
            "opt_start_seq": start,
            "ack_policy": "none",
            "filter_subject": subject,
            "inactive_threshold": int(_PROBE_THRESHOLD * 1e9),
            "mem_storage": True,
            "num_replicas": 1,
        },
        action="",
    )
    return str(info["name"]), int(info.get("num_pending") or 0)


async def _forget(api: JsApi, stream: str, name: str) -> None:
    with contextlib.suppress(JetStreamError):
        await api.delete_consumer(stream, name)


async def last_messages(
    conn: Connection, api: JsApi, stream: str, subject: str, limit: int, timeout: float
) -> list[Fetched]:
    """The last `limit` messages of `stream` matching `subject`, oldest first (fewer if fewer).

    The first probe starts `limit` sequences from the end (enough when the filter matches most
    of the stream); while it finds fewer than `limit`, the start moves back four times further,
    and a start that overshoots by far is narrowed by halving, so at most about 2 x `limit`
    messages are read for any stream.
    """
    state = (await api.stream_info(stream)).get("state") or {}
    first, last = int(state.get("first_seq") or 0), int(state.get("last_seq") or 0)
    if last == 0 or int(state.get("messages") or 0) == 0:
        return []
    first = max(first, 1)
    span, too_late = limit, last + 1  # too_late: a start known to have fewer than `limit`
    start = max(first, last - span + 1)
    name, pending = await _probe(api, stream, subject, start)
    probes = 1
    while pending < limit and start > first and probes < _MAX_PROBES:
        await _forget(api, stream, name)
        too_late, span = start, span * _WIDEN
        start = max(first, last - span + 1)
        name, pending = await _probe(api, stream, subject, start)
        probes += 1
    while pending > 2 * limit and too_late - start > 1 and probes < _MAX_PROBES:
        middle = (start + too_late) // 2
        other, found = await _probe(api, stream, subject, middle)
        probes += 1
        if found >= limit:
            await _forget(api, stream, name)
            name, pending, start = other, found, middle
        else:
            await _forget(api, stream, other)
            too_late = middle
    try:
        if pending == 0:
            return []
        kept: deque[Fetched] = deque(maxlen=limit)
        for delivery in await _pull(conn, stream, name, pending, timeout):
            kept.append(_fetched(delivery))
        return list(kept)
    finally:
        await _forget(api, stream, name)


async def _pull(conn: Connection, stream: str, consumer: str, count: int, timeout: float) -> Any:
    sub = await _subscribe(conn, stream, consumer)
    try:
        got: list[JsDelivery] = []
        while len(got) < count:
            batch = await sub.fetch(min(count - len(got), 1000), timeout)
            if not batch:
                break
            got.extend(batch)
        return got
    finally:
        await sub.unsubscribe()


async def _subscribe(conn: Connection, stream: str, consumer: str) -> PullConsumer:
    try:
        sub = await conn.client.jetstream().pull_subscribe_bind(consumer=consumer, stream=stream)
    except JS_ERRORS as exc:
        raise map_js_error(exc) from exc
    return PullConsumer(sub, stream, consumer)


async def bind_pull(conn: Connection, api: JsApi, stream: str, consumer: str) -> PullConsumer:
    """An existing pull consumer, bound; ConsumerNotFound if missing, JetStreamError if push."""
    info = await api.consumer_info(stream, consumer)
    if (info.get("config") or {}).get("deliver_subject"):
        raise JetStreamError(
            f"consumer '{consumer}' on stream '{stream}' is a push consumer; "
            "the gateway reads pull consumers (create one without a deliver subject)"
        )
    return await _subscribe(conn, stream, consumer)


async def pull_durable(
    conn: Connection, api: JsApi, stream: str, consumer: str, limit: int, timeout: float
) -> list[Fetched]:
    """Up to `limit` messages from an existing pull consumer, each acknowledged once read."""
    sub = await bind_pull(conn, api, stream, consumer)
    try:
        deliveries = await sub.fetch(limit, timeout)
        for delivery in deliveries:
            with contextlib.suppress(*JS_ERRORS):
                await delivery.ack()
        return [_fetched(d) for d in deliveries]
    finally:
        await sub.unsubscribe()


async def peek(api: JsApi, stream: str, consumer: str, limit: int) -> list[StoredMessage]:
    """The next `limit` messages `consumer` has not finished (unacknowledged ones first),
    read by sequence from the stream: the consumer is neither delivered to nor moved."""
    info = await api.consumer_info(stream, consumer)
    config = info.get("config") or {}
    filters = [config["filter_subject"]] if config.get("filter_subject") else []
    filters = filters or list(config.get("filter_subjects") or []) or [">"]
    seq = int((info.get("ack_floor") or {}).get("stream_seq") or 0) + 1
    found: list[StoredMessage] = []
    single = filters[0] if len(filters) == 1 else ">"
    for _ in range(_MAX_SCAN_FACTOR * limit):
        if len(found) >= limit:
            break
        msg = await api.message(stream, seq, single)
        if msg is None:
            break
        seq = msg.seq + 1
        if single != ">" or any(subject_matches(f, msg.subject) for f in filters):
            found.append(msg)
    return found
