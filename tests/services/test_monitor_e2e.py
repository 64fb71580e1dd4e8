"""End to end: the message logger (`nats-pubsub monitor`) against a real nats-server."""

from __future__ import annotations

import json

import pytest

from nats_pubsub.server.embedded import EmbeddedServer
from tests.helpers.fixtures import CliFactory, publish_raw

pytestmark = pytest.mark.e2e


def test_monitor_on_everything_sees_events_and_payments(
    nats_server: EmbeddedServer, run_cli: CliFactory, subject: str
) -> None:
    """A monitor on `>` captures the core publisher's events and the payment transactions."""
    url = nats_server.url
    monitor = run_cli("monitor", "--count", "40", "--timeout", "120", url=url)
    monitor.logs.wait_for("Subscribed")
    events = run_cli("publish", "--subject", subject, "--count", "20", "--interval", "0", url=url)
    payments = run_cli("payments", "--count", "20", "--interval", "0", "--seed", "3", url=url)
    assert events.wait() == 0, events.output()
    assert payments.wait() == 0, payments.output()
    assert monitor.wait() == 0, monitor.output()
    records = monitor.logs.where("Message captured")
    on_events = [r for r in records if r["subject"] == subject]
    assert sorted(r["message_id"] for r in on_events) == sorted(
        f"publisher-{n}" for n in range(1, 21)
    )
    assert all(r["level"] == "INFO" and r["event_type"] for r in on_events)
    on_payments = [r for r in records if r["subject"].startswith("payments.credit_card.")]
    assert len(on_payments) == 20
    assert monitor.logs.where("Subscribed")[0]["subjects"] == [">"]


def test_sampling_logs_fewer_lines_but_counts_all(
    nats_server: EmbeddedServer, run_cli: CliFactory, subject: str
) -> None:
    """With --sample-rate 10, 100 messages give 10 records and a count of 100."""
    monitor = run_cli(
        "monitor", "--subject", subject, "--sample-rate", "10", "--count", "100",
        "--timeout", "120", url=nats_server.url,
    )  # fmt: skip
    monitor.logs.wait_for("Subscribed")
    publish_raw(nats_server.url, subject, [b'{"n": %d}' % n for n in range(100)])
    assert monitor.wait() == 0, monitor.output()
    assert len(monitor.logs.where("Message captured")) == 10
    final = monitor.logs.where("Monitor metrics", final=True)[0]
    assert (final["total_messages"], final["logged_messages"]) == (100, 10)


def test_errors_only_logs_only_errors_but_counts_all(
    nats_server: EmbeddedServer, run_cli: CliFactory, subject: str
) -> None:
    """With --errors-only, only ERROR messages are logged; every message is counted."""
    monitor = run_cli(
        "monitor", "--subject", f"{subject}.>", "--errors-only", "--count", "40",
        "--timeout", "120", url=nats_server.url,
    )  # fmt: skip
    monitor.logs.wait_for("Subscribed")
    publish_raw(nats_server.url, f"{subject}.ok", [b'{"status": "ok"}'] * 25)
    publish_raw(nats_server.url, f"{subject}.failed", [b"boom"] * 10)
    publish_raw(nats_server.url, f"{subject}.any", [b'{"status": "error"}'] * 5)
    assert monitor.wait() == 0, monitor.output()
    records = monitor.logs.where("Message captured")
    assert len(records) == 15
    assert all(r["level"] == "ERROR" for r in records)
    final = monitor.logs.where("Monitor metrics", final=True)[0]
    assert (final["total_messages"], final["errors"]) == (40, 15)


def test_garbage_payloads_are_survived_and_classified(
    nats_server: EmbeddedServer, run_cli: CliFactory, subject: str
) -> None:
    """Empty, binary, huge, deep and non-object payloads are each captured at the right level."""
    corpus = {
        "empty": (b"", "INFO"),
        "binary": (bytes(range(256)), "WARNING"),
        "badutf8": (b"caf\xe9", "WARNING"),
        "huge": (b"\xfe" * 1_000_000, "WARNING"),
        "hugejson": (json.dumps({"status": "failed", "x": "y" * 900_000}).encode(), "ERROR"),
        "deep": (b"[" * 5000 + b"]" * 5000, "WARNING"),
        "array": (b"[1, 2, 3]", "INFO"),
        "number": (b"3.5", "INFO"),
        "text": (b"plain words", "INFO"),
        "broken": (b'{"status": "declined"', "WARNING"),
        "last": (b'{"status": "declined"}', "ERROR"),
    }
    monitor = run_cli(
        "monitor", "--subject", f"{subject}.>", "--count", str(len(corpus)),
        "--max-payload-bytes", "64", "--timeout", "120", url=nats_server.url,
    )  # fmt: skip
    monitor.logs.wait_for("Subscribed")
    for name, (data, _) in corpus.items():
        publish_raw(nats_server.url, f"{subject}.{name}", [data])
    assert monitor.wait() == 0, monitor.output()
    levels = {
        r["subject"].rsplit(".", 1)[1]: r["level"] for r in monitor.logs.where("Message captured")
    }
    assert levels == {name: level for name, (_, level) in corpus.items()}
    huge = monitor.logs.where("Message captured", subject=f"{subject}.huge")[0]
    assert huge["payload_truncated"] is True
    assert huge["size_bytes"] == 1_000_000


def test_ignored_subjects_are_counted_not_captured(
    nats_server: EmbeddedServer, run_cli: CliFactory, subject: str
) -> None:
    """Inbox replies and --ignore subjects are skipped and only counted."""
    monitor = run_cli(
        "monitor", "--subject", ">", "--ignore", f"{subject}.noise.>", "--count", "3",
        "--timeout", "120", url=nats_server.url,
    )  # fmt: skip
    monitor.logs.wait_for("Subscribed")
    publish_raw(nats_server.url, f"_INBOX.{subject}", [b"reply"] * 4)
    publish_raw(nats_server.url, f"{subject}.noise.x", [b"{}"] * 6)
    publish_raw(nats_server.url, f"{subject}.real", [b"{}"] * 3)
    assert monitor.wait() == 0, monitor.output()
    assert {r["subject"] for r in monitor.logs.where("Message captured")} == {f"{subject}.real"}
    final = monitor.logs.where("Monitor metrics", final=True)[0]
    assert (final["total_messages"], final["ignored_messages"]) == (3, 10)


def test_periodic_metrics_name_the_busiest_subjects(
    nats_server: EmbeddedServer, run_cli: CliFactory, subject: str
) -> None:
    """`Monitor metrics` come on the interval and list messages and bytes per subject."""
    monitor = run_cli(
        "monitor", "--subject", f"{subject}.>", url=nats_server.url,
        env={"METRICS_INTERVAL": "0.5"},
    )  # fmt: skip
    monitor.logs.wait_for("Subscribed")
    publish_raw(nats_server.url, f"{subject}.a", [b"12345"] * 3)
    report = monitor.logs.wait_for(
        lambda r: r.get("message") == "Monitor metrics" and r["total_messages"] == 3, timeout=60
    )[0]
    assert report["subjects"] == [{"subject": f"{subject}.a", "messages": 3, "bytes": 15}]
    assert "final" not in report
    monitor.signal()
    assert monitor.wait() == 0, monitor.output()
    assert monitor.logs.where("Monitor metrics", final=True)


def test_timeout_before_count_exits_1(
    nats_server: EmbeddedServer, run_cli: CliFactory, subject: str
) -> None:
    """Like subscribe, --timeout without reaching --count exits 1 and says so."""
    monitor = run_cli(
        "monitor", "--subject", subject, "--count", "5", "--timeout", "1", url=nats_server.url
    )
    assert monitor.wait() == 1, monitor.output()
    records = monitor.logs.where("Timed out before --count was reached", captured=0, expected=5)
    assert [(r["module"], r["function"]) for r in records] == [("monitor", "run_monitor")]
