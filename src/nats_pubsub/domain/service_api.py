"""The NATS service API (ADR-32) as data, pure: our services' names, their STATS answers read
back, and a book of who answered when (up, or gone once silent for a few seconds).

A service answers `$SRV.PING`, `$SRV.INFO` and `$SRV.STATS` with its name, version, instance id
and metadata; STATS adds when it started and, per endpoint, the counters it chooses to show (our
services: one `status` endpoint whose `data` is their own counters). Anything else on the wire
(another tool's service, a broken answer) is read as far as it goes and never raises.
"""

from __future__ import annotations

from typing import Any, Final

import msgspec

from nats_pubsub.domain.capture import SubjectStats
from nats_pubsub.domain.stats import ConsumeStats, PublishStats, ReceiveStats
from nats_pubsub.domain.timeutil import parse_timestamp_ns
from nats_pubsub.domain.transactions import PaymentStats

__all__ = [
    "FORGET_AFTER",
    "GONE_AFTER",
    "SERVICE_NAMES",
    "STATS_SUBJECT",
    "ServiceBook",
    "ServiceRow",
    "ServiceSeen",
    "parse_stats",
    "service_counters",
    "status_subject",
]

STATS_SUBJECT: Final = "$SRV.STATS"
# Our services' names in the service API, by command (ADR-32 names: letters, digits, - and _).
SERVICE_NAMES: Final = {
    "publish": "nats-pubsub-publisher",
    "subscribe": "nats-pubsub-subscriber",
    "payments": "nats-pubsub-payments",
    "monitor": "nats-pubsub-monitor",
    "gateway": "nats-pubsub-gateway",
}
GONE_AFTER: Final = 3.0  # seconds without an answer before a service is shown as gone
FORGET_AFTER: Final = 300.0  # seconds a gone service stays listed
_MAX_SERVICES: Final = 500
_MAX_STAT_KEYS: Final = 24

_decode = msgspec.json.Decoder(dict[str, Any]).decode


def service_counters(
    *,
    publish: PublishStats | None = None,
    receive: ReceiveStats | None = None,
    payments: PaymentStats | None = None,
    capture: SubjectStats | None = None,
    consume: ConsumeStats | None = None,
) -> dict[str, int | float]:
    """A service's own counters as its STATS answer shows them: what it published, received,
    captured, accepted or declined, and (JetStream) what it acknowledged. Reading them changes
    nothing (no latency window is reset)."""
    found: dict[str, int | float] = {}
    if publish is not None:
        found["published"] = publish.published
        found["published_bytes"] = publish.published_bytes
        found["publish_errors"] = publish.errors + publish.permission_errors
        if publish.jetstream:
            found["duplicates"] = publish.duplicates
    if payments is not None:
        total = payments.accepted + payments.declined
        found["accepted"] = payments.accepted
        found["declined"] = payments.declined
        found["decline_rate"] = round(payments.declined / total, 4) if total else 0.0
        found["publish_errors"] = payments.errors
    if receive is not None:
        found.update(receive.counters())
    if capture is not None:
        found.update(capture.counters())
    if consume is not None:
        found.update(consume.snapshot())  # js_acked, js_naked, js_redelivered, js_dead_lettered
    return found


def status_subject(name: str, instance: str) -> str:
    """The subject of one instance's `status` endpoint (answers its counters)."""
    return f"nats-pubsub.status.{name}.{instance}"


class ServiceSeen(msgspec.Struct, frozen=True):
    """One STATS answer: who (name, id, version, metadata), since when, and its counters."""

    name: str
    id: str
    version: str
    started: str = ""
    metadata: dict[str, str] = msgspec.field(default_factory=dict)
    stats: dict[str, Any] = msgspec.field(default_factory=dict)


def _scalar(value: Any) -> bool:
    return isinstance(value, str | int | float | bool) or value is None


def parse_stats(data: bytes) -> ServiceSeen | None:
    """A `$SRV.STATS` (or PING/INFO) answer as a ServiceSeen; None when it is not one.

    Counters are the scalar entries of the endpoints' `data` objects (the first endpoint's win
    a name clash), at most 24 of them.
    """
    try:
        answer = _decode(data)
    except (msgspec.DecodeError, RecursionError):
        return None
    name, instance, version = answer.get("name"), answer.get("id"), answer.get("version")
    if not (isinstance(name, str) and isinstance(instance, str) and name and instance):
        return None
    metadata = answer.get("metadata")
    meta = (
        {str(k): str(v) for k, v in metadata.items() if _scalar(v)}
        if isinstance(metadata, dict)
        else {}
    )
    stats: dict[str, Any] = {}
    endpoints = answer.get("endpoints")
    for endpoint in endpoints if isinstance(endpoints, list) else ():
        data_field = endpoint.get("data") if isinstance(endpoint, dict) else None
        if not isinstance(data_field, dict):
            continue
        for key, value in data_field.items():
            if len(stats) < _MAX_STAT_KEYS and _scalar(value) and key not in stats:
                stats[str(key)] = value
    started = answer.get("started")
    return ServiceSeen(
        name=name,
        id=instance,
        version=version if isinstance(version, str) else "",
        started=started if isinstance(started, str) else "",
        metadata=meta,
        stats=stats,
    )


class ServiceRow(msgspec.Struct, frozen=True):
    """A service as the dashboard and `nats-pubsub services` show it."""

    name: str
    id: str
    version: str
    hostname: str
    status: str  # "up" or "gone"
    uptime_seconds: float | None
    last_seen_seconds: float
    stats: dict[str, Any]


def _uptime(started: str, now_ns: int) -> float | None:
    if not started:
        return None
    try:
        return max(0.0, (now_ns - parse_timestamp_ns(started)) / 1e9)
    except ValueError:
        return None


class ServiceBook:
    """Every service instance seen answering, and when it last did (clock: seconds)."""

    def __init__(self) -> None:
        self._seen: dict[tuple[str, str], tuple[ServiceSeen, float, int]] = {}

    def record(self, answers: list[ServiceSeen], now: float, now_ns: int) -> None:
        """The instances that answered one poll at `now` (monotonic) / `now_ns` (wall clock)."""
        for seen in answers:
            key = (seen.name, seen.id)
            if key in self._seen or len(self._seen) < _MAX_SERVICES:
                self._seen[key] = (seen, now, now_ns)
        for key, (_, at, _) in list(self._seen.items()):
            if now - at > FORGET_AFTER:
                del self._seen[key]

    def rows(self, now: float, now_ns: int) -> list[ServiceRow]:
        """Every instance, up first, then by name and host; gone ones keep their last numbers
        (their uptime stops at the last answer)."""
        rows = []
        for seen, at, at_ns in self._seen.values():
            silent = max(0.0, now - at)
            gone = silent > GONE_AFTER
            rows.append(
                ServiceRow(
                    name=seen.name,
                    id=seen.id,
                    version=seen.version,
                    hostname=seen.metadata.get("hostname", ""),
                    status="gone" if gone else "up",
                    uptime_seconds=_uptime(seen.started, at_ns if gone else now_ns),
                    last_seen_seconds=round(silent, 1),
                    stats=seen.stats,
                )
            )
        rows.sort(key=lambda r: (r.status != "up", r.name, r.hostname, r.id))
        return rows
