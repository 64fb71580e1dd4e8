"""End to end: loss is visible. A subscriber that cannot keep up counts what it missed."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest

from nats_pubsub.domain.events import EventFactory
from nats_pubsub.domain.schema import DEFAULT_EVENT_TYPES, encode
from nats_pubsub.domain.timeutil import now_timestamp
from nats_pubsub.server.embedded import EmbeddedServer
from nats_pubsub.testing import ServiceProcess
from tests.helpers.fixtures import CliFactory, ServerFactory, publish_raw

pytestmark = pytest.mark.e2e


def _send_until_received(
    url: str, subject: str, factory: EventFactory, sub: ServiceProcess, attempts: int = 50
) -> int:
    """Send one more message at a time until the subscriber logs one; return the last sequence."""
    for _ in range(attempts):
        msg = factory.next(now_timestamp())
        publish_raw(url, subject, [encode(msg)])
        try:
            sub.logs.wait_for(
                lambda r, s=msg.sequence: (
                    r.get("message") == "Message received" and r.get("sequence") == s
                ),
                timeout=2,
            )
        except TimeoutError:
            continue
        return msg.sequence
    raise AssertionError(f"no trailing message got through:\n{sub.output()}")


def test_client_side_slow_consumer_loss_adds_up(
    nats_server: EmbeddedServer, run_cli: CliFactory, subject: str
) -> None:
    """A burst over a small pending limit: received + reported lost = sent, drops summarised."""
    sub = run_cli(
        "subscribe", "--subject", subject, url=nats_server.url, env={"PENDING_MSGS_LIMIT": "20"}
    )
    sub.logs.wait_for("Subscribed")
    factory = EventFactory("burst", DEFAULT_EVENT_TYPES)
    publish_raw(
        nats_server.url, subject, [encode(factory.next(now_timestamp())) for _ in range(3000)]
    )
    sub.logs.wait_for("Slow consumer, messages dropped")
    sub.logs.wait_for("Messages lost")
    sent = _send_until_received(nats_server.url, subject, factory, sub)
    sub.signal()
    assert sub.wait() == 0, sub.output()
    final = sub.logs.where("Subscriber metrics", final=True)[0]
    assert final["lost"] > 0
    assert final["valid_messages"] + final["lost"] == sent
    dropped_records = sub.logs.where("Slow consumer, messages dropped")
    assert sum(r["dropped"] for r in dropped_records) >= final["lost"]
    assert len(dropped_records) < final["lost"]  # summaries, not one record per message
    lost_records = sub.logs.where("Messages lost")
    assert {r["level"] for r in lost_records} == {"WARNING"}
    assert len(lost_records) < final["lost"]


def test_server_cut_off_for_slow_consumer_is_named(
    start_server: ServerFactory, run_cli: CliFactory, subject: str, tmp_path: Path
) -> None:
    """A subscriber frozen during a burst is cut off by the server; it says why and counts loss."""
    config = tmp_path / "slow.conf"
    config.write_text('max_pending: 262144\nmax_payload: 65536\nwrite_deadline: "1s"\n')
    server = start_server(config_file=config, jetstream=False)
    sub = run_cli("subscribe", "--subject", subject, url=server.url, env={"RECONNECT_WAIT": "0.2"})
    sub.logs.wait_for("Subscribed")
    factory = EventFactory("burst", DEFAULT_EVENT_TYPES)
    publish_raw(server.url, subject, [encode(factory.next(now_timestamp()))])
    sub.logs.wait_for("Message received")
    sub.signal(signal.SIGSTOP)
    try:
        publish_raw(
            server.url, subject, [encode(factory.next(now_timestamp())) for _ in range(20000)]
        )
        _wait_for_server_line(server, "Slow Consumer")
    finally:
        sub.signal(signal.SIGCONT)
    [record] = sub.logs.wait_for("Reconnected to NATS", timeout=60)
    sent = _send_until_received(server.url, subject, factory, sub)
    sub.signal()
    assert sub.wait() == 0, sub.output()
    final = sub.logs.where("Subscriber metrics", final=True)[0]
    assert final["valid_messages"] + final["lost"] == sent
    assert final["lost"] > 0
    assert record["level"] == "WARNING"
    assert record["cause"] == "closed by the server"
    assert "slow consumer" in record["hint"]


def _wait_for_server_line(server: EmbeddedServer, text: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not any(text in line for line in server.lines):
        assert time.monotonic() < deadline, "\n".join(server.lines[-10:])
        time.sleep(0.05)
