"""The services a chaos run keeps busy, as `nats-pubsub` command lines (pure).

Three JetStream publishers (acked one by one, `--fast-ingest`, and payments), each running
`--count` runs back to back; two durable subscribers sharing one consumer on the events; a
monitor consuming the payments durably; and a core NATS publisher and subscriber pair. The
publishers and the two subscribers are the services the schedule may kill.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final, NamedTuple

__all__ = [
    "CORE_SUBJECT",
    "EVENTS_STREAM",
    "PAYMENTS_STREAM",
    "Role",
    "ServiceSpec",
    "killable",
    "service_env",
    "workload",
]

EVENTS_STREAM: Final = "EVENTS"
PAYMENTS_STREAM: Final = "PAYMENTS"
CORE_SUBJECT: Final = "core.chaos"
_EVENTS_DURABLE: Final = "chaos-events"
_PAYMENTS_DURABLE: Final = "chaos-payments"
_ACK_TIMEOUT: Final = "2"  # seconds a publisher waits for an ack before it sends again
_ACK_WAIT: Final = "5"  # seconds a consumer's unacked delivery waits before redelivery


class Role(StrEnum):
    """What a service does in the workload, which decides what is checked of it."""

    JS_PUBLISHER = "js_publisher"  # publish --jetstream: one ack per message
    PAYMENTS = "payments"  # payments --jetstream
    SUBSCRIBER = "subscriber"  # subscribe --jetstream, on the events
    MONITOR = "monitor"  # monitor --jetstream, on the payments
    CORE_PUBLISHER = "core_publisher"
    CORE_SUBSCRIBER = "core_subscriber"


class ServiceSpec(NamedTuple):
    """One service: its name, role, stream (JetStream), arguments, and whether it runs
    `--count` runs back to back (the soak starts the next one when one ends)."""

    name: str
    role: Role
    stream: str
    args: tuple[str, ...]
    count_runs: bool


def workload(replicas: int = 3) -> tuple[ServiceSpec, ...]:
    """Every service of a chaos run, in start order (consumers before producers)."""
    js = ("--jetstream", "--replicas", str(replicas))
    consume = (*js, "--ack-wait", _ACK_WAIT)
    produce = (*js, "--ack-timeout", _ACK_TIMEOUT)
    subscriber = ("subscribe", *consume, "--subject", "events.chaos.>")
    return (
        ServiceSpec(
            "subscriber-a",
            Role.SUBSCRIBER,
            EVENTS_STREAM,
            (*subscriber, "--durable", _EVENTS_DURABLE, "--source", "chaos-sub-a"),
            False,
        ),
        ServiceSpec(
            "subscriber-b",
            Role.SUBSCRIBER,
            EVENTS_STREAM,
            (*subscriber, "--durable", _EVENTS_DURABLE, "--source", "chaos-sub-b"),
            False,
        ),
        ServiceSpec(
            "monitor",
            Role.MONITOR,
            PAYMENTS_STREAM,
            ("monitor", *consume, "--subject", "payments.>", "--durable", _PAYMENTS_DURABLE),
            False,
        ),
        ServiceSpec(
            "core-subscriber",
            Role.CORE_SUBSCRIBER,
            "",
            ("subscribe", "--subject", CORE_SUBJECT, "--source", "chaos-core-sub"),
            False,
        ),
        ServiceSpec(
            "js-publisher",
            Role.JS_PUBLISHER,
            EVENTS_STREAM,
            (
                *("publish", *produce, "--subject", "events.chaos.acked"),
                *("--source", "chaos-js", "--interval", "0.02", "--count", "400"),
            ),
            True,
        ),
        ServiceSpec(
            "fast-publisher",
            Role.JS_PUBLISHER,
            EVENTS_STREAM,
            (
                *("publish", *produce, "--fast-ingest", "--subject", "events.chaos.fast"),
                *("--source", "chaos-fast", "--interval", "0.01", "--count", "800"),
            ),
            True,
        ),
        ServiceSpec(
            "payments",
            Role.PAYMENTS,
            PAYMENTS_STREAM,
            ("payments", *produce, "--source", "chaos-pay", "--interval", "0.05", "--count", "160"),
            True,
        ),
        ServiceSpec(
            "core-publisher",
            Role.CORE_PUBLISHER,
            "",
            ("publish", "--subject", CORE_SUBJECT, "--source", "chaos-core", "--interval", "0.02"),
            False,
        ),
    )


def killable(specs: tuple[ServiceSpec, ...]) -> tuple[str, ...]:
    """The services the schedule may kill: the JetStream publishers and subscribers."""
    roles = {Role.JS_PUBLISHER, Role.PAYMENTS, Role.SUBSCRIBER}
    return tuple(spec.name for spec in specs if spec.role in roles)


_DROPPED_PREFIXES: Final = ("NATS_", "QUEUE_", "PUBLISH_", "EVENT_", "LOG_", "JS_", "STREAM_")


def service_env(base: dict[str, str], url: str) -> dict[str, str]:
    """A service's environment: ours without settings that would change the workload, plus the
    cluster's URL, JSON logs and quick reconnects."""
    env = {k: v for k, v in base.items() if not k.startswith(_DROPPED_PREFIXES)}
    for name in ("HOSTNAME", "CONSUMER_NAME", "REPLAY_HISTORY", "ACK_WAIT", "MAX_DELIVER"):
        env.pop(name, None)
    env.update(
        {
            "NATS_URL": url,
            "LOG_FORMAT": "json",
            "LOG_LEVEL": "INFO",
            "RECONNECT_WAIT": "0.25",
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env
