"""End to end: SIGTERM while messages flow loses nothing that was published."""

from __future__ import annotations

import pytest

from nats_pubsub.server.embedded import EmbeddedServer
from tests.helpers.fixtures import CliFactory
from tests.helpers.jetstream import stream_messages

pytestmark = pytest.mark.e2e


def test_sigterm_under_load_completes_acks(
    nats_server: EmbeddedServer, run_cli: CliFactory, subject: str
) -> None:
    """Flat-out JetStream publishing stopped by SIGTERM: every message in flight is acked."""
    pub = run_cli(
        "publish",
        "--jetstream",
        "--subject",
        f"events.{subject}",
        "--interval",
        "0",
        url=nats_server.url,
    )
    pub.logs.wait_for("Message published", count=500, timeout=60)
    pub.signal()
    assert pub.wait(timeout=30) == 0, pub.output()
    final = pub.logs.where("Publisher metrics", final=True)[0]
    assert final["js_failed"] == 0
    assert final["js_acked"] == len(pub.logs.where("Message published"))
    assert len(stream_messages(nats_server.url, "EVENTS")) == final["js_acked"]


def test_sigterm_under_load_flushes_core_publishes(
    nats_server: EmbeddedServer, run_cli: CliFactory, subject: str
) -> None:
    """Flat-out core publishing stopped by SIGTERM: the subscriber gets every message published."""
    sub = run_cli("subscribe", "--subject", subject, url=nats_server.url)
    sub.logs.wait_for("Subscribed")
    pub = run_cli("publish", "--subject", subject, "--interval", "0", url=nats_server.url)
    sub.logs.wait_for("Message received", count=2000, timeout=60)
    pub.signal()
    assert pub.wait(timeout=30) == 0, pub.output()
    sent = pub.logs.where("Publisher metrics", final=True)[0]["total_messages"]
    sub.logs.wait_for("Message received", count=sent, timeout=120)
    sub.signal()
    assert sub.wait(timeout=60) == 0, sub.output()
    final = sub.logs.where("Subscriber metrics", final=True)[0]
    assert final["valid_messages"] == sent
    assert final["lost"] == 0
