"""Consumer decisions, pure: the six templates, a create request as a server config, resets.

Where the upstream quietly treats an unknown policy as `all` or `explicit`, these rules answer
with a `ValueError` saying what is accepted (the gateway turns it into a 400).
"""

from __future__ import annotations

import re
from typing import Any, Final

from nats_pubsub.domain.timeutil import format_ns
from nats_pubsub.gateway.admin_models import CreateConsumerRequest, ResetRequest, Template
from nats_pubsub.gateway.timespans import parse_time, parse_timespan

__all__ = [
    "ACK_POLICIES",
    "DELIVER_POLICIES",
    "RESET_ACTIONS",
    "TEMPLATES",
    "consumer_config",
    "reset_config",
    "valid_name",
]

DELIVER_POLICIES: Final = {
    "all": "all",
    "last": "last",
    "new": "new",
    "by_start_sequence": "by_start_sequence",
    "by_start_time": "by_start_time",
    "last_per_subject": "last_per_subject",
}
ACK_POLICIES: Final = ("none", "all", "explicit")
RESET_ACTIONS: Final = ("reset", "replay_from_sequence", "replay_from_time")
_DAY_NS: Final = 86400 * 1_000_000_000
_DURABLE_IDLE_NS: Final = 365 * _DAY_NS
_EPHEMERAL_IDLE_NS: Final = 5 * 60 * 1_000_000_000
_NAME = re.compile(r"^[A-Za-z0-9_-]{1,200}$")


def _template(name: str, description: str, use_case: str, **fields: Any) -> Template:
    return Template(name, description, use_case, CreateConsumerRequest(name=name, **fields))


TEMPLATES: Final = (
    _template(
        "real-time-processor",
        "Processes new messages in real-time (ephemeral)",
        "Event processing, real-time analytics",
        durable=False,
        deliver_policy="new",
        ack_policy="explicit",
        max_deliver=3,
        ack_wait="00:00:30",
    ),
    _template(
        "batch-processor",
        "Processes all messages from the beginning (durable)",
        "Batch processing, data migration",
        durable=True,
        deliver_policy="all",
        ack_policy="explicit",
        max_deliver=5,
        ack_wait="00:05:00",
    ),
    _template(
        "work-queue",
        "Work queue pattern with explicit acknowledgments (durable)",
        "Job processing, task distribution",
        durable=True,
        deliver_policy="all",
        ack_policy="explicit",
        max_deliver=10,
        ack_wait="00:01:00",
        max_ack_pending=100,
    ),
    _template(
        "fire-and-forget",
        "No acknowledgments required (ephemeral)",
        "Logging, metrics, non-critical events",
        durable=False,
        deliver_policy="new",
        ack_policy="none",
        max_deliver=1,
    ),
    _template(
        "latest-only",
        "Only processes the most recent message (ephemeral)",
        "Status updates, latest state",
        durable=False,
        deliver_policy="last",
        ack_policy="explicit",
        max_deliver=3,
    ),
    _template(
        "durable-processor",
        "Durable consumer that survives restarts",
        "Critical processing, guaranteed delivery",
        durable=True,
        deliver_policy="all",
        ack_policy="explicit",
        max_deliver=-1,
        ack_wait="00:10:00",
        inactive_threshold="1.00:00:00",
        max_ack_pending=1000,
    ),
)


def valid_name(name: str) -> bool:
    """True for a stream or consumer name JetStream accepts (letters, digits, `-`, `_`)."""
    return bool(_NAME.match(name))


def consumer_config(req: CreateConsumerRequest) -> dict[str, Any]:
    """The server-form consumer config for a create request; ValueError says what is wrong."""
    if not req.name.strip():
        raise ValueError("Consumer name is required")
    if not valid_name(req.name):
        raise ValueError(
            f"Invalid consumer name {req.name!r}: use letters, digits, '-' and '_' only"
        )
    deliver = DELIVER_POLICIES.get(req.deliver_policy.strip().lower())
    if deliver is None:
        raise ValueError(f"deliverPolicy must be one of {', '.join(DELIVER_POLICIES)}")
    ack = req.ack_policy.strip().lower()
    if ack not in ACK_POLICIES:
        raise ValueError(f"ackPolicy must be one of {', '.join(ACK_POLICIES)}")
    config: dict[str, Any] = {"name": req.name, "deliver_policy": deliver, "ack_policy": ack}
    if req.description:
        config["description"] = req.description
    if req.filter_subject:
        config["filter_subject"] = req.filter_subject
    if deliver == "by_start_sequence":
        if not req.start_sequence or req.start_sequence < 1:
            raise ValueError("deliverPolicy by_start_sequence needs startSequence (1 or more)")
        config["opt_start_seq"] = req.start_sequence
    if deliver == "by_start_time":
        if not req.start_time:
            raise ValueError("deliverPolicy by_start_time needs startTime (RFC 3339)")
        config["opt_start_time"] = format_ns(parse_time(req.start_time))
    if req.ack_wait:
        config["ack_wait"] = parse_timespan(req.ack_wait)
    if req.max_deliver is not None:
        config["max_deliver"] = req.max_deliver
    idle = _DURABLE_IDLE_NS if req.durable else _EPHEMERAL_IDLE_NS
    if req.inactive_threshold:
        idle = parse_timespan(req.inactive_threshold)
    config["inactive_threshold"] = idle
    if req.max_ack_pending is not None and ack != "none":
        config["max_ack_pending"] = req.max_ack_pending
    if req.flow_control:
        config["flow_control"] = True
    if req.idle_heartbeat:
        config["idle_heartbeat"] = parse_timespan(req.idle_heartbeat)
    return config


def reset_config(current: dict[str, Any], req: ResetRequest) -> dict[str, Any]:
    """The config a reset recreates the consumer with: everything as it was, but where it starts.

    `reset` starts over from the first message, `replay_from_sequence` at `sequence`,
    `replay_from_time` at `time`.
    """
    action = req.action.strip().lower()
    if action not in RESET_ACTIONS:
        raise ValueError(f"action must be one of {', '.join(RESET_ACTIONS)}")
    config = {
        k: v
        for k, v in current.items()
        if k not in ("deliver_policy", "opt_start_seq", "opt_start_time")
    }
    if action == "reset":
        config["deliver_policy"] = "all"
    elif action == "replay_from_sequence":
        if not req.sequence or req.sequence < 1:
            raise ValueError("replay_from_sequence needs sequence (1 or more)")
        config["deliver_policy"] = "by_start_sequence"
        config["opt_start_seq"] = req.sequence
    else:
        if not req.time:
            raise ValueError("replay_from_time needs time (RFC 3339)")
        config["deliver_policy"] = "by_start_time"
        config["opt_start_time"] = format_ns(parse_time(req.time))
    return config
