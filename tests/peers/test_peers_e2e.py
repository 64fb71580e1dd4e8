"""End to end with real Go, JavaScript and C clients, both directions.

Peers publish events in every language's timestamp form and shape, and payments: `subscribe`
(core and JetStream), `monitor` and `replay` take them all, with true latencies. Peers
subscribe to what `publish` and `payments` send and check every field as strict consumers.
Their hostile messages are rejected with their reasons, and the services keep running.
"""

from __future__ import annotations

import json
import time
from typing import Any

import msgspec
import pytest

from nats_pubsub.domain.events import EventFactory
from nats_pubsub.domain.schema import DEFAULT_EVENT_TYPES
from nats_pubsub.domain.timeutil import now_timestamp
from nats_pubsub.domain.transactions import TransactionFactory
from nats_pubsub.server.embedded import EmbeddedServer
from nats_pubsub.testing import ServiceProcess
from tests.helpers.event_shapes import assert_latency_true
from tests.helpers.fixtures import CliFactory, publish_raw
from tests.peers.conftest import Peer, StartPeer

pytestmark = pytest.mark.e2e

EVENT_CASES = (
    "upstream-csharp",
    "upstream-go",
    "upstream-js",
    "upstream-python",
    "python-whole-second",
    "offset",
    "seed",
    "ours",
)
PAYMENT_CASES = ("payment-accepted", "payment-declined")
# What each hostile message is, and the reason the subscriber gives.
HOSTILE_EVENTS = {
    "value-string": "schema",
    "sequence-string": "schema",
    "event-type-number": "schema",
    "status-number": "schema",
    "missing-value": "schema",
    "bare-date": "bad_timestamp",
    "no-zone": "bad_timestamp",
    "impossible-date": "bad_timestamp",
    "id-mismatch": "bad_message_id",
    "source-too-long": "too_long",
    "not-json": "not_json",
}


def _start(run_cli: CliFactory, url: str, *args: str) -> ServiceProcess:
    proc = run_cli(*args, url=url)
    proc.logs.wait_for("Subscribed")
    return proc


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def _stopped(*procs: ServiceProcess) -> None:
    for proc in procs:
        proc.signal()
    for proc in procs:
        assert proc.wait() == 0, proc.output()


def test_what_a_peer_publishes_is_received(
    peer: Peer, nats_server: EmbeddedServer, run_cli: CliFactory
) -> None:
    """Every timestamp form and shape from the peer, and its payments: received with a true
    latency by `subscribe` (core and JetStream), captured by `monitor`, replayed as sent."""
    url = nats_server.url
    events = _start(run_cli, url, "subscribe", "--subject", "events.>")
    payments = _start(run_cli, url, "subscribe", "--subject", "payments.>")
    durable = _start(run_cli, url, "subscribe", "--subject", "events.>", "--jetstream")
    monitor = _start(run_cli, url, "monitor", "--subject", "events.>", "--subject", "payments.>")
    before = time.time_ns()
    sent = peer.run("publish", url, f"{peer.name}-peer")
    assert [line["case"] for line in sent] == [*EVENT_CASES, *PAYMENT_CASES]
    messages = [json.loads(line["payload"]) for line in sent]

    for proc in (events, durable):
        received = proc.logs.wait_for("Message received", count=len(EVENT_CASES))
        by_id = {record["message_id"]: record for record in received}
        for message in messages[: len(EVENT_CASES)]:
            assert_latency_true(by_id[message["message_id"]], message["timestamp"], before)
    received = payments.logs.wait_for("Message received", count=len(PAYMENT_CASES))
    by_id = {record["transaction_id"]: record for record in received}
    for message in messages[len(EVENT_CASES) :]:
        assert_latency_true(by_id[message["transaction_id"]], message["timestamp"], before)
    captured = monitor.logs.wait_for("Message captured", count=len(sent))
    levels = {r.get("message_id") or r["transaction_id"]: r["level"] for r in captured}
    assert [levels[m.get("message_id") or m["transaction_id"]] for m in messages] == [
        *["INFO"] * (len(sent) - 1),
        "ERROR",  # the declined payment
    ]
    assert sorted(map(_canonical, (r["payload"] for r in captured))) == sorted(
        map(_canonical, messages)
    )

    replay = run_cli("replay", "--stream", "EVENTS", url=url)
    assert replay.wait() == 0, replay.output()
    replayed = [r["payload"] for r in replay.logs.records if "sequence" in r and "payload" in r]
    assert replayed == messages[: len(EVENT_CASES)]

    _stopped(events, payments, durable, monitor)
    for proc in (events, payments, durable):
        assert not proc.logs.where("Invalid message"), proc.output()
        assert not proc.logs.where("Unknown field in message"), proc.output()
    assert durable.logs.where("Subscriber metrics", final=True)[0]["js_dead_lettered"] == 0


def test_a_peer_validates_what_we_publish(
    peer: Peer, start_peer: StartPeer, nats_server: EmbeddedServer, run_cli: CliFactory
) -> None:
    """The peer checks every field of 55 events (flat out and paced) and 60 payments (accepted
    and declined) as a strict consumer in its language; any mismatch fails the test."""
    url = nats_server.url
    checker = start_peer("subscribe", url, "55", "60")
    checker.lines.wait_for(lambda line: line.get("ready") is True)
    publishers = [
        run_cli("publish", "--count", "50", "--interval", "0", "--source", "flat", url=url),
        run_cli("publish", "--count", "5", "--interval", "0.01", "--source", "paced", url=url),
        run_cli("payments", "--count", "60", "--interval", "0", "--seed", "3", url=url),
    ]
    for proc in publishers:
        assert proc.wait() == 0, proc.output()
    assert checker.wait() == 0, checker.output()
    [done] = [line for line in checker.lines.records if line.get("done")]
    assert done["events"] == 55
    assert done["accepted"] > 0
    assert done["declined"] > 0
    assert done["accepted"] + done["declined"] == 60


def _our_event() -> dict[str, Any]:
    factory = EventFactory("ours", DEFAULT_EVENT_TYPES, seed=1)
    event: dict[str, Any] = msgspec.to_builtins(factory.next(now_timestamp()))
    return event


def _our_payment() -> dict[str, Any]:
    txn = TransactionFactory("ours", seed=1).next(now_timestamp(), declined=True)
    transaction: dict[str, Any] = msgspec.to_builtins(txn)
    return transaction


def _without_status(event: dict[str, Any]) -> dict[str, Any]:
    return {**event, "data": {k: v for k, v in event["data"].items() if k != "status"}}


# Each is one thing our publishers never do: the peer must notice it. The unchanged ones pass.
MISMATCHES = {
    "unchanged": lambda e: e,
    "payment-unchanged": lambda t: t,
    "unknown-field": lambda e: {**e, "trace_id": "t-1"},
    "missing-status": _without_status,
    "value-text": lambda e: {**e, "data": {**e["data"], "value": "7"}},
    "python-timestamp": lambda e: {**e, "timestamp": e["timestamp"].replace("Z", "+00:00")},
    "wrong-header": lambda e: e,
    "payment-with-authorization": lambda t: {**t, "authorization_code": "AUTH-0A1B2C3D"},
}


@pytest.mark.parametrize("mismatch", MISMATCHES)
def test_a_peer_rejects_what_we_never_send(
    peer: Peer, start_peer: StartPeer, nats_server: EmbeddedServer, mismatch: str
) -> None:
    """The peer's checks are strict: one changed detail makes it fail; unchanged, it passes."""
    url = nats_server.url
    is_payment = mismatch.startswith("payment")
    checker = start_peer("subscribe", url, "0" if is_payment else "1", "1" if is_payment else "0")
    checker.lines.wait_for(lambda line: line.get("ready") is True)
    message = _our_payment() if is_payment else _our_event()
    msg_id = message["transaction_id" if is_payment else "message_id"]
    message = MISMATCHES[mismatch](message)
    header = {"Nats-Msg-Id": "other-1" if mismatch == "wrong-header" else msg_id}
    subject = "payments.credit_card.declined" if is_payment else "events.test"
    publish_raw(url, subject, [msgspec.json.encode(message)], header)
    code = checker.wait()
    errors = [line for line in checker.lines.records if "error" in line]
    if mismatch.endswith("unchanged"):
        assert (code, errors) == (0, []), checker.output()
    else:
        assert code == 1, checker.output()
        assert len(errors) == 1, checker.output()


def test_hostile_messages_from_a_peer_are_rejected_and_survived(
    peer: Peer, nats_server: EmbeddedServer, run_cli: CliFactory
) -> None:
    """Wrong types, bad timestamps, bad ids and broken JSON: one `Invalid message` each, with its
    reason and counted; a valid event after them is still received; everything is captured."""
    url = nats_server.url
    events = _start(run_cli, url, "subscribe", "--subject", "events.>")
    payments = _start(run_cli, url, "subscribe", "--subject", "payments.>")
    monitor = _start(run_cli, url, "monitor", "--subject", "events.>", "--subject", "payments.>")
    sent = peer.run("hostile", url, f"{peer.name}-peer")
    assert [line["case"] for line in sent] == [*HOSTILE_EVENTS, "payment-amount-string", "after"]

    invalid = events.logs.wait_for("Invalid message", count=len(HOSTILE_EVENTS))
    assert [r["reason"] for r in invalid] == list(HOSTILE_EVENTS.values())
    after = events.logs.wait_for("Message received")
    assert [r["message_id"] for r in after] == [f"{peer.name}-peer-1"]
    [bad_payment] = payments.logs.wait_for("Invalid message")
    assert bad_payment["reason"] == "schema"
    monitor.logs.wait_for("Message captured", count=len(sent))

    _stopped(events, payments, monitor)
    final = events.logs.where("Subscriber metrics", final=True)[0]
    assert (final["valid_messages"], final["total_errors"]) == (1, len(HOSTILE_EVENTS))
    reasons = list(HOSTILE_EVENTS.values())
    assert final["errors_by_reason"] == {r: reasons.count(r) for r in set(reasons)}
    assert monitor.logs.where("Monitor metrics", final=True)[0]["total_messages"] == len(sent)
