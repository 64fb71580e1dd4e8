"""End to end: the payment publisher watched by the message logger, on a real nats-server.

Payment subjects are fixed, so every test here uses its own server (a fresh `nats_server`).
"""

from __future__ import annotations

from typing import Any

import pytest

from nats_pubsub.domain.transactions import DECLINE_REASONS, DECLINED_SUBJECT
from nats_pubsub.server.embedded import EmbeddedServer
from nats_pubsub.testing import ServiceProcess
from tests.helpers.fixtures import CliFactory, ServerFactory, free_port

pytestmark = pytest.mark.e2e


def watch_payments(run_cli: CliFactory, url: str, count: int) -> ServiceProcess:
    """A monitor on payments.> that exits after `count` messages, ready to receive."""
    monitor = run_cli(
        "monitor", "--subject", "payments.>", "--count", str(count), "--timeout", "120", url=url
    )
    monitor.logs.wait_for("Subscribed")
    return monitor


def publish_payments(run_cli: CliFactory, url: str, count: int, *extra: str) -> ServiceProcess:
    """The payment publisher, flat out, with a fixed seed and decline rate unless overridden."""
    args = ["--count", str(count), "--interval", "0", "--seed", "7", "--decline-rate", "0.25"]
    return run_cli("payments", *args, *extra, url=url)


def captured(monitor: ServiceProcess) -> list[dict[str, Any]]:
    """The monitor's `Message captured` records."""
    return monitor.logs.where("Message captured")


def test_monitor_captures_all_200_transactions(
    nats_server: EmbeddedServer, run_cli: CliFactory
) -> None:
    """Every one of 200 transactions published flat out is captured once."""
    monitor = watch_payments(run_cli, nats_server.url, 200)
    pub = publish_payments(run_cli, nats_server.url, 200)
    assert pub.wait() == 0, pub.output()
    assert monitor.wait() == 0, monitor.output()
    ids = sorted(r["transaction_id"] for r in captured(monitor))
    assert ids == sorted(f"TXN-payment-publisher-{n}" for n in range(1, 201))


def test_declines_are_captured_as_errors_with_their_reason(
    nats_server: EmbeddedServer, run_cli: CliFactory
) -> None:
    """Declined transactions are ERROR records with their decline_reason; accepted ones INFO."""
    monitor = watch_payments(run_cli, nats_server.url, 200)
    pub = publish_payments(run_cli, nats_server.url, 200)
    assert pub.wait() == 0, pub.output()
    assert monitor.wait() == 0, monitor.output()
    records = captured(monitor)
    declined = [r for r in records if r["subject"] == DECLINED_SUBJECT]
    assert declined
    assert all(r["level"] == "ERROR" and r["status"] == "declined" for r in declined)
    assert all(r["decline_reason"] in DECLINE_REASONS for r in declined)
    accepted = [r for r in records if r["subject"] != DECLINED_SUBJECT]
    assert all(r["level"] == "INFO" and "decline_reason" not in r for r in accepted)


def test_a_fast_run_with_the_default_policy_declines(
    nats_server: EmbeddedServer, run_cli: CliFactory
) -> None:
    """`payments --count 200 --interval 0` (no --decline-rate) declines some (13% by default),
    and the monitor logs each at ERROR: a load test exercises the decline path."""
    monitor = watch_payments(run_cli, nats_server.url, 200)
    args = ("--count", "200", "--interval", "0", "--seed", "7")
    pub = run_cli("payments", *args, url=nats_server.url)
    assert pub.wait() == 0, pub.output()
    assert monitor.wait() == 0, monitor.output()
    declined = pub.logs.where("Credit card declined")
    assert 10 <= len(declined) <= 50, pub.output()
    errors = [r for r in captured(monitor) if r["level"] == "ERROR"]
    assert sorted(r["transaction_id"] for r in errors) == sorted(
        r["transaction_id"] for r in declined
    )


def test_publisher_metrics_match_what_the_monitor_saw(
    nats_server: EmbeddedServer, run_cli: CliFactory
) -> None:
    """The publisher's final accepted/declined counts equal the monitor's, subject by subject."""
    monitor = watch_payments(run_cli, nats_server.url, 200)
    pub = publish_payments(run_cli, nats_server.url, 200)
    assert pub.wait() == 0, pub.output()
    assert monitor.wait() == 0, monitor.output()
    final = pub.logs.where("Payment publisher metrics", final=True)[0]
    seen = {
        s["subject"]: s["messages"] for s in monitor.logs.where("Monitor metrics")[-1]["subjects"]
    }
    assert final["total"] == 200
    assert (
        final["declined"] == seen[DECLINED_SUBJECT] == len(pub.logs.where("Credit card declined"))
    )
    assert final["accepted"] == seen["payments.credit_card.accepted"]
    assert monitor.logs.where("Monitor metrics", final=True)[0]["errors"] == final["declined"]


def test_metrics_every_20_transactions(nats_server: EmbeddedServer, run_cli: CliFactory) -> None:
    """The publisher reports metrics after every 20 transactions and once at shutdown."""
    pub = publish_payments(run_cli, nats_server.url, 60)
    assert pub.wait() == 0, pub.output()
    metrics = pub.logs.where("Payment publisher metrics")
    assert [m["total"] for m in metrics] == [20, 40, 60, 60]
    assert metrics[-1]["final"] is True


def test_seeded_runs_are_reproducible(nats_server: EmbeddedServer, run_cli: CliFactory) -> None:
    """Two runs with the same --seed publish the same transactions, timestamps aside."""
    monitor = watch_payments(run_cli, nats_server.url, 100)
    for _ in range(2):
        pub = publish_payments(run_cli, nats_server.url, 50, "--seed", "1234")
        assert pub.wait() == 0, pub.output()
    assert monitor.wait() == 0, monitor.output()
    payloads = [
        {k: v for k, v in r["payload"].items() if k != "timestamp"} for r in captured(monitor)
    ]
    assert payloads[:50] == payloads[50:]
    assert len({p["card_type"] + p["last_four"] for p in payloads[:50]}) > 1


def test_msg_id_header_is_the_transaction_id(
    nats_server: EmbeddedServer, run_cli: CliFactory
) -> None:
    """Each transaction carries Nats-Msg-Id = transaction_id, for JetStream de-duplication."""
    monitor = watch_payments(run_cli, nats_server.url, 10)
    pub = publish_payments(run_cli, nats_server.url, 10)
    assert pub.wait() == 0, pub.output()
    assert monitor.wait() == 0, monitor.output()
    for record in captured(monitor):
        assert record["headers"]["Nats-Msg-Id"] == record["transaction_id"]


def test_publisher_keeps_running_through_a_server_restart(
    start_server: ServerFactory, run_cli: CliFactory
) -> None:
    """When the server goes away the publisher reports it, reconnects and carries on; every
    transaction it made is accounted for: published (a record) or failed (a record), none
    silently dropped, and its final metrics agree."""
    first = start_server(port=free_port())
    env = {"RECONNECT_WAIT": "0.2"}
    pub = run_cli("payments", "--interval", "0.05", "--decline-rate", "0.2", url=first.url, env=env)
    pub.logs.wait_for("Credit card accepted", count=5)
    first.stop()
    pub.logs.wait_for("Disconnected from NATS")
    start_server(port=first.port)
    pub.logs.wait_for("Reconnected to NATS", timeout=60)
    monitor = watch_payments(run_cli, first.url, 5)
    assert monitor.wait() == 0, monitor.output()
    assert pub.process.poll() is None, pub.output()
    pub.signal()
    assert pub.wait() == 0, pub.output()
    published = pub.logs.where("Credit card accepted") + pub.logs.where("Credit card declined")
    failed = pub.logs.where("Publish failed")
    numbers = sorted(int(r["transaction_id"].rsplit("-", 1)[1]) for r in published + failed)
    assert numbers == list(range(1, len(numbers) + 1)), "a transaction is unaccounted for"
    final = pub.logs.where("Payment publisher metrics", final=True)[0]
    assert (final["total"], final["publish_errors"]) == (len(published), len(failed))


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (("payments", "--decline-rate", "1.5"), "--decline-rate"),
        (("payments", "--interval", "-1"), "PUBLISH_INTERVAL / --interval"),
        (("monitor", "--sample-rate", "0"), "--sample-rate"),
        (("monitor", "--subject", "a.>.b"), "--subject"),
        (("monitor", "--ignore", "bad subject"), "--ignore"),
    ],
)
def test_bad_settings_exit_2(run_cli: CliFactory, args: tuple[str, ...], named: str) -> None:
    """A malformed payments or monitor setting exits 2 and names the flag to fix."""
    proc = run_cli(*args, url="nats://127.0.0.1:1")
    assert proc.wait(timeout=30) == 2, proc.output()
    assert named in proc.output()
