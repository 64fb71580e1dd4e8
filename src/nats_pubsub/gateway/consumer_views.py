"""Consumers as the gateway shows them, pure: details, metrics, the health rules, samples, peeks.

Inputs are the server's consumer info (`CONSUMER.INFO` JSON) and the stream's last sequence.
"""

from __future__ import annotations

from typing import Any, Final, NamedTuple

from nats_pubsub.domain.timeutil import format_ns, parse_timestamp_ns
from nats_pubsub.gateway.admin_models import (
    ConsumerConfigView,
    ConsumerDetails,
    ConsumerHealth,
    ConsumerMetrics,
    ConsumerSample,
    ConsumerStateView,
    PeekMessage,
)
from nats_pubsub.gateway.timespans import format_time, timespan

__all__ = [
    "HealthVerdict",
    "consumer_details",
    "consumer_health",
    "data_preview",
    "health_verdict",
    "policy_name",
    "sample",
]

OVERLOADED_ACK_PENDING: Final = 1000
LAGGING_PENDING: Final = 10000
METRICS_LAG: Final = 1000
METRICS_ACK_PENDING: Final = 100
PREVIEW_CHARS: Final = 100


def policy_name(value: str | None) -> str:
    """`by_start_sequence` -> `ByStartSequence`, as the upstream's enums print."""
    return "".join(part.capitalize() for part in (value or "all").split("_"))


class HealthVerdict(NamedTuple):
    """A consumer's health: status (Healthy, Inactive, Overloaded, Lagging) and the issue."""

    healthy: bool
    status: str
    issue: str | None


def health_verdict(
    *, inactive_ns: int, idle_ns: int | None, ack_pending: int, pending: int
) -> HealthVerdict:
    """The upstream's rules, in order: inactive past its threshold; over 1,000 awaiting acks
    (overrides inactive); over 10,000 pending while otherwise healthy; else healthy.

    `idle_ns` is the time since the last delivery (None: never delivered, so not inactive).
    """
    verdict = HealthVerdict(True, "Healthy", None)
    if inactive_ns and idle_ns is not None and idle_ns > inactive_ns:
        verdict = HealthVerdict(
            False, "Inactive", f"Consumer has been inactive for {timespan(idle_ns)}"
        )
    if ack_pending > OVERLOADED_ACK_PENDING:
        verdict = HealthVerdict(False, "Overloaded", f"High pending acknowledgments: {ack_pending}")
    if pending > LAGGING_PENDING and verdict.healthy:
        verdict = HealthVerdict(False, "Lagging", f"High pending messages: {pending}")
    return verdict


def _idle_ns(info: dict[str, Any], now_ns: int) -> tuple[str | None, int | None]:
    last = ((info.get("delivered") or {}).get("last_active")) or None
    if last is None or str(last).startswith("0001-01-01"):
        return None, None
    try:
        return format_ns(parse_timestamp_ns(last)), max(0, now_ns - parse_timestamp_ns(last))
    except ValueError:
        return None, None


def consumer_health(stream: str, info: dict[str, Any], now_ns: int) -> ConsumerHealth:
    """`GET .../health` for one consumer's info."""
    last, idle = _idle_ns(info, now_ns)
    ack_pending = int(info.get("num_ack_pending") or 0)
    pending = int(info.get("num_pending") or 0)
    inactive = int((info.get("config") or {}).get("inactive_threshold") or 0)
    verdict = health_verdict(
        inactive_ns=inactive, idle_ns=idle, ack_pending=ack_pending, pending=pending
    )
    return ConsumerHealth(
        consumer_name=str(info.get("name", "")),
        stream_name=stream,
        is_healthy=verdict.healthy,
        status=verdict.status,
        last_activity=last,
        time_since_last_activity=timespan(idle) if idle is not None else None,
        pending_messages=pending,
        ack_pending=ack_pending,
        issue=verdict.issue,
    )


def _metrics(info: dict[str, Any], stream_last_seq: int) -> ConsumerMetrics:
    delivered = info.get("delivered") or {}
    lag = max(0, stream_last_seq - int(delivered.get("stream_seq") or 0))
    ack_pending = int(info.get("num_ack_pending") or 0)
    return ConsumerMetrics(
        consumer_lag=lag,
        pending_messages=int(info.get("num_pending") or 0),
        acknowledged_messages=max(0, int(delivered.get("consumer_seq") or 0) - ack_pending),
        redelivered_messages=int(info.get("num_redelivered") or 0),
        average_ack_time=0.0,
        is_healthy=lag < METRICS_LAG and ack_pending < METRICS_ACK_PENDING,
        health_status="Lagging" if lag > METRICS_LAG else "Healthy",
    )


def consumer_details(stream: str, info: dict[str, Any], stream_last_seq: int) -> ConsumerDetails:
    """A consumer's details: config, state and the metrics derived from them."""
    cfg = info.get("config") or {}
    delivered = info.get("delivered") or {}
    return ConsumerDetails(
        stream_name=stream,
        name=str(info.get("name", "")),
        description=cfg.get("description"),
        created=format_time(info.get("created")),
        config=ConsumerConfigView(
            filter_subject=cfg.get("filter_subject")
            or (",".join(cfg["filter_subjects"]) if cfg.get("filter_subjects") else None),
            deliver_policy=policy_name(cfg.get("deliver_policy")),
            ack_policy=policy_name(cfg.get("ack_policy")),
            ack_wait=timespan(cfg.get("ack_wait")),
            max_deliver=int(cfg.get("max_deliver") or -1),
            inactive_threshold=timespan(cfg.get("inactive_threshold")),
            max_ack_pending=int(cfg.get("max_ack_pending") or -1),
            flow_control=bool(cfg.get("flow_control")),
            idle_heartbeat=timespan(cfg.get("idle_heartbeat")),
            opt_start_seq=cfg.get("opt_start_seq"),
            opt_start_time=format_time(cfg.get("opt_start_time")),
        ),
        state=ConsumerStateView(
            delivered=int(delivered.get("consumer_seq") or 0),
            ack_pending=int(info.get("num_ack_pending") or 0),
            redelivered=int(info.get("num_redelivered") or 0),
            num_pending=int(info.get("num_pending") or 0),
            num_waiting=int(info.get("num_waiting") or 0),
            last_delivered=format_time(delivered.get("last_active")),
        ),
        metrics=_metrics(info, stream_last_seq),
    )


def sample(info: dict[str, Any], stream_last_seq: int, now_ns: int) -> ConsumerSample:
    """One point of a consumer's metrics history."""
    metrics = _metrics(info, stream_last_seq)
    return ConsumerSample(
        timestamp=format_ns(now_ns),
        consumer_lag=metrics.consumer_lag,
        pending_messages=metrics.pending_messages,
        acknowledged_messages=metrics.acknowledged_messages,
        redelivered_messages=metrics.redelivered_messages,
        delivered_count=int((info.get("delivered") or {}).get("consumer_seq") or 0),
        is_healthy=metrics.is_healthy,
    )


def data_preview(data: bytes) -> str:
    """The first 100 characters of a payload, with `...` when there is more."""
    text = data.decode("utf-8", "replace")
    return text if len(text) <= PREVIEW_CHARS else text[:PREVIEW_CHARS] + "..."


def peek_message(subject: str, seq: int, time: str, data: bytes) -> PeekMessage:
    """One message of a peek."""
    return PeekMessage(
        sequence=seq,
        subject=subject,
        timestamp=format_time(time) or "",
        size_bytes=len(data),
        data_preview=data_preview(data),
    )
