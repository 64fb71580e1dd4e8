"""End to end: /metrics, /healthz and /readyz of running services, scraped over real HTTP."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from nats_pubsub.server.embedded import EmbeddedServer
from tests.helpers.fixtures import CliFactory, ServerFactory, free_port
from tests.helpers.metrics import METRICS_ARGS, endpoint, eventually, get, scrape

pytestmark = pytest.mark.e2e


def test_subscriber_metrics_match_what_was_published(
    nats_server: EmbeddedServer, run_cli: CliFactory, subject: str
) -> None:
    """Received count, bytes and latency samples equal what the publisher sent."""
    sub = run_cli("subscribe", "--subject", subject, *METRICS_ARGS, url=nats_server.url)
    sub.logs.wait_for("Subscribed")
    base = endpoint(sub)
    pub = run_cli(
        "publish", "--subject", subject, "--count", "40", "--interval", "0", url=nats_server.url
    )
    assert pub.wait() == 0, pub.output()
    sent_bytes = sum(r["size_bytes"] for r in pub.logs.where("Message published"))

    def received_all() -> dict[str, float] | None:
        """the subscriber's /metrics shows 40 valid messages"""
        values = scrape(base)
        valid = values.get("nats_pubsub_received_messages_total{service=subscriber,status=valid}")
        return values if valid == 40 else None

    values = eventually(received_all)
    assert values["nats_pubsub_received_bytes_total{service=subscriber}"] == sent_bytes
    assert values["nats_pubsub_message_latency_seconds_count{service=subscriber}"] == 40
    assert values["nats_pubsub_received_messages_total{service=subscriber,status=invalid}"] == 0
    assert values["nats_pubsub_connected{service=subscriber}"] == 1


def test_publisher_metrics_match_its_records(
    nats_server: EmbeddedServer, run_cli: CliFactory, subject: str
) -> None:
    """A scrape between publishes reports exactly the messages and bytes logged so far."""
    pub = run_cli(
        "publish", "--subject", subject, "--interval", "0.5", *METRICS_ARGS, url=nats_server.url
    )
    base = endpoint(pub)

    def some_published() -> dict[str, float] | None:
        """the publisher has published at least 3 messages"""
        values = scrape(base)
        return (
            values
            if values.get("nats_pubsub_published_messages_total{service=publisher}", 0) >= 3
            else None
        )

    values = eventually(some_published)
    count = int(values["nats_pubsub_published_messages_total{service=publisher}"])
    pub.logs.wait_for(lambda r: r.get("message") == "Message published" and r["sequence"] == count)
    logged = [r for r in pub.logs.where("Message published") if r["sequence"] <= count]
    assert len(logged) == count
    published_bytes = values["nats_pubsub_published_bytes_total{service=publisher}"]
    assert published_bytes == sum(r["size_bytes"] for r in logged)
    assert values["nats_pubsub_publish_errors_total{service=publisher}"] == 0


def test_monitor_and_payments_metrics(nats_server: EmbeddedServer, run_cli: CliFactory) -> None:
    """The logger's captured counts by level match the payments' accepted and declined records."""
    monitor = run_cli(
        "monitor", "--subject", "payments.>", "--errors-only", *METRICS_ARGS, url=nats_server.url
    )
    monitor.logs.wait_for("Subscribed")
    base = endpoint(monitor)
    payments = run_cli(
        "payments",
        "--count",
        "30",
        "--interval",
        "0",
        "--seed",
        "3",
        "--decline-rate",
        "0.4",
        url=nats_server.url,
    )
    assert payments.wait() == 0, payments.output()
    declined = len(payments.logs.where("Credit card declined"))
    assert 0 < declined < 30

    def captured_all() -> dict[str, float] | None:
        """the logger's /metrics shows 30 captured messages"""
        values = scrape(base)
        total = sum(v for k, v in values.items() if k.startswith("nats_pubsub_captured_messages"))
        return values if total == 30 else None

    values = eventually(captured_all)
    assert values["nats_pubsub_captured_by_level_total{level=ERROR,service=monitor}"] == declined
    assert (
        values["nats_pubsub_captured_by_level_total{level=INFO,service=monitor}"] == 30 - declined
    )


def test_payment_publisher_declines_by_reason(
    nats_server: EmbeddedServer, run_cli: CliFactory
) -> None:
    """The payment publisher's status and reason counters equal its logged transactions."""
    payments = run_cli(
        "payments",
        "--interval",
        "0.3",
        "--seed",
        "5",
        "--decline-rate",
        "0.5",
        *METRICS_ARGS,
        url=nats_server.url,
    )
    base = endpoint(payments)

    def some_sent() -> dict[str, float] | None:
        """the payment publisher has sent at least 6 transactions"""
        values = scrape(base)
        total = sum(v for k, v in values.items() if k.startswith("nats_pubsub_payments_total"))
        return values if total >= 6 else None

    values = eventually(some_sent)
    total = int(sum(v for k, v in values.items() if k.startswith("nats_pubsub_payments_total")))
    payments.logs.wait_for(lambda r: str(r.get("transaction_id", "")).endswith(f"-{total}"))
    records = [
        r
        for r in payments.logs.records
        if r.get("message") in ("Credit card accepted", "Credit card declined")
        and int(r["transaction_id"].rsplit("-", 1)[1]) <= total
    ]
    declines = [r for r in records if r["message"] == "Credit card declined"]
    assert values["nats_pubsub_payments_total{service=payments,status=declined}"] == len(declines)
    for reason in {r["decline_reason"] for r in declines}:
        expected = sum(1 for r in declines if r["decline_reason"] == reason)
        assert (
            values[f"nats_pubsub_payment_declines_total{{reason={reason},service=payments}}"]
            == expected
        )


def test_readyz_follows_the_server(start_server: ServerFactory, run_cli: CliFactory) -> None:
    """/readyz is 200 while connected, 503 with a reason while the server is down, 200 again."""
    port = free_port()
    server = start_server(port=port)
    sub = run_cli("subscribe", "--subject", "ready.test", *METRICS_ARGS, url=server.url)
    sub.logs.wait_for("Subscribed")
    base = endpoint(sub)

    def status_is(code: int) -> Callable[[], tuple[int, bytes] | None]:
        def check() -> tuple[int, bytes] | None:
            """/readyz answers the expected status"""
            answer = get(f"{base}/readyz")
            return answer if answer[0] == code else None

        return check

    eventually(status_is(200))
    server.stop()
    _, body = eventually(status_is(503))
    assert json.loads(body)["reason"] == "not connected to NATS"
    assert get(f"{base}/healthz")[0] == 200
    start_server(port=port)
    eventually(status_is(200))
    values = scrape(base)
    assert values["nats_pubsub_reconnects_total{service=subscriber}"] == 1
    assert values["nats_pubsub_connected{service=subscriber}"] == 1


def test_healthz_answers_before_nats_is_reachable(
    start_server: ServerFactory, run_cli: CliFactory
) -> None:
    """While NATS is not up yet: /healthz 200, /readyz 503 'starting'; ready once it is up."""
    port = free_port()
    sub = run_cli("subscribe", *METRICS_ARGS, url=f"nats://127.0.0.1:{port}")
    base = endpoint(sub)
    sub.logs.wait_for("NATS not reachable, retrying")
    assert get(f"{base}/healthz")[0] == 200
    status, body = get(f"{base}/readyz")
    assert status == 503
    assert json.loads(body)["reason"].startswith("starting")
    start_server(port=port)
    sub.logs.wait_for("Subscribed", timeout=60)
    eventually(lambda: get(f"{base}/readyz")[0] == 200)


def test_health_command_exit_codes(nats_server: EmbeddedServer, run_cli: CliFactory) -> None:
    """`nats-pubsub health` exits 0 for a ready service, 1 with one line when nothing answers."""
    sub = run_cli("subscribe", *METRICS_ARGS, url=nats_server.url)
    sub.logs.wait_for("Subscribed")
    base = endpoint(sub)
    eventually(lambda: get(f"{base}/readyz")[0] == 200)
    ok = run_cli("health", "--url", base, url=nats_server.url)
    assert ok.wait() == 0, ok.output()
    down = run_cli("health", "--url", f"http://127.0.0.1:{free_port()}", url=nats_server.url)
    assert down.wait() == 1
    assert len(down.stderr.raw) == 1
    assert down.stderr.raw[0].startswith("nats-pubsub: not ready: http://127.0.0.1:")


def test_metrics_port_in_use_exits_2(nats_server: EmbeddedServer, run_cli: CliFactory) -> None:
    """A taken metrics port is one ERROR record and exit code 2."""
    first = run_cli("subscribe", *METRICS_ARGS, url=nats_server.url)
    port = endpoint(first).rsplit(":", 1)[1]
    second = run_cli(
        "subscribe", "--metrics-port", port, "--metrics-host", "127.0.0.1", url=nats_server.url
    )
    assert second.wait() == 2, second.output()
    assert second.logs.where("Metrics endpoint could not start")
