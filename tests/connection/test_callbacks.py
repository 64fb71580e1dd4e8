"""Connection events: what is counted and which records say so (errors already mapped)."""

from __future__ import annotations

import asyncio
import io
import json
from typing import Any

import nats.errors as nerr

from nats_pubsub.connection.callbacks import ConnectionEvents, is_power_of_two
from nats_pubsub.connection.error_map import map_error
from nats_pubsub.errors import (
    NatsConnectionLost,
    NatsError,
    NatsPermissionError,
    NatsSlowConsumerError,
)
from nats_pubsub.logs.logger import Logger, LogSink
from nats_pubsub.server.cluster import meta_leader, route_count


def _events() -> tuple[ConnectionEvents, io.BytesIO]:
    stream = io.BytesIO()
    return ConnectionEvents(Logger("test", LogSink(stream))), stream


def _records(stream: io.BytesIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_permission_error_is_an_error_record_and_counted() -> None:
    """A permission violation: one ERROR record, a counter, and the hook called."""
    events, stream = _events()
    calls: list[int] = []
    events.on_permission_error = lambda: calls.append(1)
    events.error(NatsPermissionError("permissions violation for publish to x"), reconnecting=False)
    [record] = _records(stream)
    assert (record["level"], record["message"]) == ("ERROR", "Permission denied")
    assert (events.permission_errors, calls) == (1, [1])


def test_a_refused_service_api_subscription_is_one_warning_and_not_counted() -> None:
    """The service API's subscriptions refused: said once, with what to do; the service's own
    permission counter (a publisher's failed publishes) is left alone."""
    events, stream = _events()
    calls: list[int] = []
    events.on_permission_error = lambda: calls.append(1)
    for subject in ("$srv.ping", "$srv.ping.nats-pubsub-publisher", "nats-pubsub.status.x.y"):
        text = f'permissions violation for subscription to "{subject}"'
        events.error(NatsPermissionError(text), reconnecting=False)
    [record] = _records(stream)
    assert (record["level"], record["message"]) == ("WARNING", "Service API not allowed")
    assert "SERVICE_API=false" in record["hint"]
    assert (events.service_api_refused, events.permission_errors, calls) == (3, 0, [])


def test_slow_consumer_drops_are_summarised() -> None:
    """Hundreds of dropped messages: one record at once, the rest summed at flush."""
    events, stream = _events()
    for _ in range(300):
        events.error(NatsSlowConsumerError("slow consumer"), reconnecting=False)
    events.flush()
    records = [r for r in _records(stream) if r["message"] == "Slow consumer, messages dropped"]
    assert len(records) == 2
    assert sum(r["dropped"] for r in records) == events.slow_consumer_dropped == 300


def test_failed_reconnects_are_logged_on_a_log_scale() -> None:
    """Attempts 1, 2, 4, 8 are logged; the others only counted."""
    events, stream = _events()
    for _ in range(10):
        events.error(NatsError("refused"), reconnecting=True)
    assert [r["attempts"] for r in _records(stream)] == [1, 2, 4, 8]


def test_quick_reconnect_after_server_eof_carries_a_slow_consumer_hint() -> None:
    """EOF from the server, then back to the same server at once: a WARNING naming the cause."""
    events, stream = _events()
    events.url = "nats://127.0.0.1:4222"
    events.error(NatsError("nats: unexpected EOF"), reconnecting=False)
    events.reconnected("nats://127.0.0.1:4222")
    record = _records(stream)[-1]
    assert record["level"] == "WARNING"
    assert record["cause"] == "closed by the server"
    assert "slow consumer" in record["hint"]


def test_reconnect_to_another_server_is_plain_info() -> None:
    """Failing over to another node is an INFO `Reconnected to NATS` with the new URL."""
    events, stream = _events()
    events.url = "nats://127.0.0.1:4222"
    events.error(NatsError("nats: unexpected EOF"), reconnecting=False)
    events.reconnected("nats://127.0.0.1:4223")
    record = _records(stream)[-1]
    assert (record["level"], record["url"]) == ("INFO", "nats://127.0.0.1:4223")


def test_is_power_of_two() -> None:
    """1, 2, 4 are; 0, 3, 6 are not."""
    assert [n for n in range(9) if is_power_of_two(n)] == [1, 2, 4, 8]


def test_meta_leader_from_jsz() -> None:
    """The meta leader's name, or None before an election or without an answer."""
    assert meta_leader({"meta_cluster": {"leader": "n2"}}) == "n2"
    assert meta_leader({"meta_cluster": {}}) is None
    assert meta_leader(None) is None


def test_route_count_counts_peers_not_pooled_connections() -> None:
    """Three pooled routes to each of two peers are two peers."""
    routes = [{"remote_name": name} for name in ("a", "a", "a", "b", "b", "b")]
    assert route_count({"routes": routes}) == 2
    assert route_count(None) == 0


def test_server_closing_the_connection_is_said_with_the_disconnect() -> None:
    """A server that stops (EOF) is no ERROR: its cause rides on the `Disconnected` WARNING."""
    events, stream = _events()
    events.url = "nats://127.0.0.1:4222"
    events.error(NatsConnectionLost("nats: unexpected EOF"), reconnecting=False)
    assert _records(stream) == []
    asyncio.run(events.on_disconnected())
    [record] = _records(stream)
    assert (record["level"], record["message"]) == ("WARNING", "Disconnected from NATS")
    assert record["error"] == "nats: unexpected EOF"
    assert events.errors == 1


def test_other_errors_are_still_errors() -> None:
    """A server -ERR that is no transition stays an ERROR `NATS error`."""
    events, stream = _events()
    events.error(NatsError("nats: maximum connections exceeded"), reconnecting=False)
    [record] = _records(stream)
    assert (record["level"], record["message"]) == ("ERROR", "NATS error")


def test_eof_and_reset_map_to_connection_lost() -> None:
    """nats-py's EOF and a reset socket are a lost connection in our tree."""
    assert isinstance(map_error(nerr.UnexpectedEOF()), NatsConnectionLost)
    assert isinstance(map_error(ConnectionResetError(104, "reset by peer")), NatsConnectionLost)
    assert not isinstance(map_error(ConnectionRefusedError(111, "refused")), NatsConnectionLost)
