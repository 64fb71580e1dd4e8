"""Streams and consumers as the dashboard's panel shows them, pure: from the server's stream and
consumer infos to rows, each consumer judged by the gateway's health rules
(`consumer_views.consumer_health`) with its lag as the gateway's metrics count it."""

from __future__ import annotations

from typing import Any, Final

import msgspec

from nats_pubsub.gateway.consumer_views import consumer_details, consumer_health

__all__ = ["MAX_CONSUMERS", "MAX_STREAMS", "ConsumerRow", "StreamRow", "stream_rows"]

MAX_STREAMS: Final = 50
MAX_CONSUMERS: Final = 50  # per stream


class ConsumerRow(msgspec.Struct, frozen=True):
    """One consumer: what it has still to deliver, what awaits acks, and its health."""

    name: str
    pending: int
    ack_pending: int
    lag: int
    redelivered: int
    status: str  # Healthy, Inactive, Overloaded, Lagging
    issue: str | None


class StreamRow(msgspec.Struct, frozen=True):
    """One stream: its subjects, size and sequences, and its consumers."""

    name: str
    subjects: list[str]
    messages: int
    bytes: int
    first_seq: int
    last_seq: int
    consumers: list[ConsumerRow]
    more_consumers: int = 0  # past MAX_CONSUMERS, not listed


def _consumer_row(stream: str, info: dict[str, Any], last_seq: int, now_ns: int) -> ConsumerRow:
    health = consumer_health(stream, info, now_ns)
    details = consumer_details(stream, info, last_seq)
    return ConsumerRow(
        name=health.consumer_name,
        pending=health.pending_messages,
        ack_pending=health.ack_pending,
        lag=details.metrics.consumer_lag,
        redelivered=details.state.redelivered,
        status=health.status,
        issue=health.issue,
    )


def stream_rows(
    streams: list[dict[str, Any]], consumers: dict[str, list[dict[str, Any]]], now_ns: int
) -> list[StreamRow]:
    """Rows by stream name (at most MAX_STREAMS), consumers by name within each."""
    rows = []
    for info in sorted(streams, key=lambda i: str((i.get("config") or {}).get("name", "")))[
        :MAX_STREAMS
    ]:
        cfg, state = info.get("config") or {}, info.get("state") or {}
        name = str(cfg.get("name", ""))
        last_seq = int(state.get("last_seq") or 0)
        infos = sorted(consumers.get(name, []), key=lambda c: str(c.get("name", "")))
        rows.append(
            StreamRow(
                name=name,
                subjects=[str(s) for s in cfg.get("subjects") or []],
                messages=int(state.get("messages") or 0),
                bytes=int(state.get("bytes") or 0),
                first_seq=int(state.get("first_seq") or 0),
                last_seq=last_seq,
                consumers=[_consumer_row(name, c, last_seq, now_ns) for c in infos[:MAX_CONSUMERS]],
                more_consumers=max(0, len(infos) - MAX_CONSUMERS),
            )
        )
    return rows
