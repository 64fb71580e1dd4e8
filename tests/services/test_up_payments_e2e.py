"""End to end: `nats-pubsub up`'s message logger captures all the stack's traffic."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from nats_pubsub.services.up import STACK
from tests.helpers.fixtures import CliFactory, free_port

pytestmark = pytest.mark.e2e


def _captured(prefix: str) -> Callable[[dict[str, Any]], bool]:
    def test(record: dict[str, Any]) -> bool:
        return (
            record.get("logger") == "message-logger"
            and record.get("message") == "Message captured"
            and str(record["subject"]).startswith(prefix)
        )

    return test


def test_up_logger_captures_events_and_payments(run_cli: CliFactory, tmp_path: Path) -> None:
    """The stack's message logger captures the publisher's events and the payment publisher's
    transactions alike (it watches every subject, as `monitor` does by default)."""
    url = f"nats://127.0.0.1:{free_port()}"
    stack = run_cli(
        "up", "--store-dir", str(tmp_path / "store"), "--http-port", "0", url=url,
        env={"PUBLISH_INTERVAL": "0.2", "GATEWAY_PORT": "0"},
    )  # fmt: skip
    stack.logs.wait_for("Stack running; press Ctrl+C to stop", timeout=60)
    stack.logs.wait_for(_captured("payments.credit_card."), count=3, timeout=60)
    stack.logs.wait_for(_captured("events."), count=3, timeout=60)
    assert stack.logs.where("Subscribed", logger="message-logger")[0]["subjects"] == [">"]
    # What the logger captured is what the publishers published: each captured transaction and
    # event is one they logged, on the subject they logged it on.
    captured = [r for r in stack.logs.records if _captured("payments.credit_card.")(r)]
    for record in captured:
        txn = record["transaction_id"]
        [sent] = stack.logs.wait_for(
            lambda r, txn=txn: (
                r.get("message") in ("Credit card accepted", "Credit card declined")
                and r.get("transaction_id") == txn
            ),
            timeout=30,
        )
        assert sent["subject"] == record["subject"], (sent, record)
    events = [r for r in stack.logs.records if _captured("events.")(r)]
    for record in events:
        msg_id = record["message_id"]
        [sent] = stack.logs.wait_for(
            lambda r, msg_id=msg_id: (
                r.get("message") == "Message published" and r.get("message_id") == msg_id
            ),
            timeout=30,
        )
        assert sent["subject"] == record["subject"], (sent, record)
    stack.signal()
    assert stack.wait() == 0, stack.output()


def test_up_help_names_every_service_it_starts() -> None:
    """`up --help` lists each command the stack runs."""
    done = subprocess.run(
        [sys.executable, "-m", "nats_pubsub", "up", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    text = " ".join(done.stdout.split())
    assert "nats-server" in text
    for service in STACK:
        assert f"({service.command}" in text, service.command
