"""The NATS service API (ADR-32) end to end: every long-running service answers `$SRV.PING`,
`$SRV.INFO` and `$SRV.STATS` to a plain nats-py request, with its own counters."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import msgspec
import nats
import pytest

from nats_pubsub.server.embedded import EmbeddedServer
from tests.helpers.fixtures import CliFactory, ServerFactory

pytestmark = pytest.mark.e2e

UP_SERVICES = {
    "nats-pubsub-subscriber": "subscriber",
    "nats-pubsub-monitor": "message-logger",
    "nats-pubsub-gateway": "gateway",
    "nats-pubsub-publisher": "publisher",
    "nats-pubsub-payments": "payment-publisher",
}


def ask_all(url: str, subject: str, want: int, timeout: float = 20.0) -> list[dict[str, Any]]:
    """Every answer to one request on `subject`, asked again until `want` answered (services
    still starting) or `timeout` passed; a plain nats-py client."""

    async def go() -> list[dict[str, Any]]:
        nc = await nats.connect(url)
        deadline = time.monotonic() + timeout
        answers: dict[str, dict[str, Any]] = {}
        try:
            while len(answers) < want and time.monotonic() < deadline:
                inbox = nc.new_inbox()
                sub = await nc.subscribe(inbox)
                await nc.publish(subject, b"", reply=inbox)
                while True:
                    try:
                        msg = await sub.next_msg(timeout=1.0)
                    except nats.errors.TimeoutError:
                        break
                    if msg.data:
                        answer = msgspec.json.decode(msg.data)
                        answers[answer["id"]] = answer
                await sub.unsubscribe()
        finally:
            await nc.drain()
        return list(answers.values())

    return asyncio.run(go())


def test_every_service_of_up_answers_srv_ping(
    nats_server: EmbeddedServer, run_cli: CliFactory
) -> None:
    """`$SRV.PING` to all, as `nats micro ls` sends it: each of up's five services answers with
    its name, version, id and host; `$SRV.STATS` carries what each has done."""
    up = run_cli("up", url=nats_server.url, env={"PUBLISH_INTERVAL": "0.05"})
    up.logs.wait_for("Stack running; press Ctrl+C to stop", timeout=60)
    up.logs.wait_for("Message received")
    pings = ask_all(nats_server.url, "$SRV.PING", want=len(UP_SERVICES))
    assert {p["name"]: p["metadata"]["hostname"] for p in pings} == UP_SERVICES
    assert {p["type"] for p in pings} == {"io.nats.micro.v1.ping_response"}
    assert len({p["id"] for p in pings}) == len(UP_SERVICES)
    assert {p["version"] for p in pings} == {pings[0]["version"]}
    up.logs.wait_for("Credit card accepted")
    stats = {s["name"]: s for s in ask_all(nats_server.url, "$SRV.STATS", want=5)}
    assert set(stats) == set(UP_SERVICES)
    counters = {name: s["endpoints"][0]["data"] for name, s in stats.items()}
    assert counters["nats-pubsub-publisher"]["published"] > 0
    assert counters["nats-pubsub-subscriber"]["valid"] > 0
    assert counters["nats-pubsub-monitor"]["captured"] > 0
    assert counters["nats-pubsub-payments"]["accepted"] > 0
    assert "requests" in counters["nats-pubsub-gateway"]
    for answer in stats.values():
        assert answer["started"].endswith("Z")
        assert [e["name"] for e in answer["endpoints"]] == ["status"]
    info = ask_all(nats_server.url, "$SRV.INFO.nats-pubsub-payments", want=1)
    assert info[0]["description"] == "Simulates credit card transactions"


def test_services_lists_who_answers(nats_server: EmbeddedServer, run_cli: CliFactory) -> None:
    """`nats-pubsub services`: a table on a terminal's terms, JSON with --json; a service that
    stopped is no longer listed; nobody answering is said, exit 0."""
    assert run_cli("services", url=nats_server.url).wait() == 0
    none = run_cli("services", "--wait", "0.3", url=nats_server.url)
    assert none.wait() == 0
    assert none.logs.raw == ["no service answered"]
    sub = run_cli("subscribe", url=nats_server.url)
    mon = run_cli("monitor", url=nats_server.url)
    for proc in (sub, mon):
        proc.logs.wait_for("Subscribed")
    listed = run_cli("services", "--json", url=nats_server.url)
    assert listed.wait() == 0, listed.output()
    rows = json.loads(listed.logs.raw[0])
    assert {(r["name"], r["hostname"], r["status"]) for r in rows} == {
        ("nats-pubsub-subscriber", "subscriber", "up"),
        ("nats-pubsub-monitor", "message-logger", "up"),
    }
    for row in rows:
        assert row["uptime_seconds"] >= 0
        assert {"received", "captured"} & set(row["stats"])
    table = run_cli("services", url=nats_server.url)
    assert table.wait() == 0
    header, *lines = table.logs.raw
    assert header.split() == ["service", "host", "id", "version", "uptime", "counters"]
    assert sorted(line.split()[0] for line in lines) == [
        "nats-pubsub-monitor",
        "nats-pubsub-subscriber",
    ]
    assert any("valid=0" in line for line in lines)
    sub.signal()
    assert sub.wait() == 0
    after = run_cli("services", "--json", url=nats_server.url)
    assert after.wait() == 0
    assert [r["name"] for r in json.loads(after.logs.raw[0])] == ["nats-pubsub-monitor"]


def test_services_says_when_nats_is_not_there(run_cli: CliFactory) -> None:
    from tests.helpers.fixtures import free_port

    proc = run_cli("services", "--connect-timeout", "0.5", url=f"nats://127.0.0.1:{free_port()}")
    assert proc.wait() == 1
    (record,) = proc.stderr.where("Could not connect to NATS")
    assert record["level"] == "ERROR"
    assert proc.logs.raw == []


def test_the_counters_are_the_services_own(
    nats_server: EmbeddedServer, run_cli: CliFactory
) -> None:
    """What STATS says is what the service logged: a payment publisher declining every
    transaction, one a second, answers with as many declines as it logged meanwhile."""
    payments = run_cli(
        "payments", "--interval", "1", "--decline-rate", "1", "--seed", "4", url=nats_server.url
    )
    before = len(payments.logs.wait_for("Credit card declined", count=2))
    (answer,) = ask_all(nats_server.url, "$SRV.STATS.nats-pubsub-payments", want=1)
    after = len(payments.logs.where("Credit card declined"))
    data = answer["endpoints"][0]["data"]
    assert before <= data["declined"] <= after + 1  # +1: counted, its record not yet read
    assert (data["accepted"], data["decline_rate"], data["publish_errors"]) == (0, 1.0, 0)
    assert answer["metadata"] == {"hostname": "payment-publisher"}


def test_service_api_false_answers_nothing(
    nats_server: EmbeddedServer, run_cli: CliFactory
) -> None:
    sub = run_cli("subscribe", url=nats_server.url, env={"SERVICE_API": "false"})
    sub.logs.wait_for("Subscribed")
    assert ask_all(nats_server.url, "$SRV.PING", want=1, timeout=3) == []


LIMITED = """
authorization {
  users = [
    { user: "limited", password: "s3cret-pw",
      permissions: { publish: { allow: ["allowed.>"] }, subscribe: { allow: ["_INBOX.>"] } } }
  ]
}
"""


def test_a_user_not_allowed_the_service_api_gets_one_warning(
    start_server: ServerFactory, run_cli: CliFactory, tmp_path: Path
) -> None:
    """Its subscriptions to $SRV.… refused: one WARNING saying what to allow (or to set
    SERVICE_API=false); no `Permission denied` errors, no failed publishes counted; the
    publisher publishes as before."""
    config = tmp_path / "limited.conf"
    config.write_text(LIMITED)
    server = start_server(config_file=config, jetstream=False)
    env = {"NATS_USER": "limited", "NATS_PASSWORD": "s3cret-pw"}
    pub = run_cli(
        "publish", "--subject", "allowed.x", "--count", "20", "--interval", "0.05",
        url=server.url, env=env,
    )  # fmt: skip
    assert pub.wait() == 0, pub.output()
    assert pub.logs.where("Service API not allowed"), pub.output()
    (warning,) = pub.logs.where("Service API not allowed")
    assert warning["level"] == "WARNING"
    assert "SERVICE_API=false" in warning["hint"]
    assert pub.logs.where("Permission denied") == []
    final = pub.logs.where("Publisher metrics", final=True)[0]
    assert (final["total_messages"], final["permission_errors"]) == (20, 0)
