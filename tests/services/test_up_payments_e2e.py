"""End to end: `nats-pubsub up` runs the payment publisher and a message logger on payments.>."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import CliFactory, free_port

pytestmark = pytest.mark.e2e


def test_up_logs_payments_through_the_message_logger(run_cli: CliFactory, tmp_path: Path) -> None:
    """The stack's message logger captures the stack's payment publisher's transactions."""
    url = f"nats://127.0.0.1:{free_port()}"
    stack = run_cli(
        "up", "--store-dir", str(tmp_path / "store"), "--http-port", "0", url=url,
        env={"PUBLISH_INTERVAL": "0.2"},
    )  # fmt: skip
    stack.logs.wait_for("Stack running; press Ctrl+C to stop", timeout=60)
    stack.logs.wait_for(
        lambda r: (
            r.get("logger") == "message-logger"
            and r.get("message") == "Message captured"
            and r["subject"].startswith("payments.credit_card.")
        ),
        count=3,
        timeout=60,
    )
    assert stack.logs.where("Credit card accepted") or stack.logs.where("Credit card declined")
    stack.signal()
    assert stack.wait() == 0, stack.output()
