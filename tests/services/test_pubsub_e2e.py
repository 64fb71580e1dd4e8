"""End to end: the real publish and subscribe commands against a real nats-server."""

from __future__ import annotations

import pytest

from nats_pubsub.server.embedded import EmbeddedServer
from tests.helpers.fixtures import CliFactory

pytestmark = pytest.mark.e2e


def test_publish_n_receive_n(
    nats_server: EmbeddedServer, run_cli: CliFactory, subject: str
) -> None:
    """Every message published with --count arrives once, with the same ids, each with its
    end-to-end latency (never negative: it is measured from the send time the message carries)."""
    sub = run_cli(
        "subscribe", "--subject", subject, "--count", "200", "--timeout", "60", url=nats_server.url
    )
    sub.logs.wait_for("Subscribed")
    pub = run_cli(
        "publish",
        "--subject",
        subject,
        "--count",
        "200",
        "--interval",
        "0",
        "--source",
        "pub-a",
        url=nats_server.url,
    )
    assert pub.wait() == 0, pub.output()
    assert sub.wait() == 0, sub.output()
    sent = [r["message_id"] for r in pub.logs.where("Message published")]
    got = [r["message_id"] for r in sub.logs.where("Message received")]
    assert sent == [f"pub-a-{n}" for n in range(1, 201)]
    assert sorted(got) == sorted(sent)
    assert len(got) == len(set(got))
    latencies = [r["latency_ms"] for r in sub.logs.where("Message received")]
    assert all(isinstance(ms, float) and ms >= 0 for ms in latencies), latencies[:5]


def test_queue_group_splits_load(
    nats_server: EmbeddedServer, run_cli: CliFactory, subject: str
) -> None:
    """Three members of one queue group share the messages: none twice, none missing."""
    members = [
        run_cli(
            "subscribe",
            "--subject",
            subject,
            "--queue-group",
            "workers",
            "--source",
            f"worker-{n}",
            url=nats_server.url,
        )
        for n in range(3)
    ]
    for member in members:
        member.logs.wait_for("Subscribed")
    pub = run_cli(
        "publish", "--subject", subject, "--count", "300", "--interval", "0", url=nats_server.url
    )
    assert pub.wait() == 0, pub.output()
    for member in members:
        member.signal()
        assert member.wait() == 0, member.output()
    shares = [[r["message_id"] for r in m.logs.where("Message received")] for m in members]
    received = [mid for share in shares for mid in share]
    assert sorted(received) == sorted(f"publisher-{n}" for n in range(1, 301))
    assert all(share for share in shares), [len(s) for s in shares]


def test_subject_template_and_wildcard(
    nats_server: EmbeddedServer, run_cli: CliFactory, subject: str
) -> None:
    """A templated publish subject reaches a `>` subscriber on each event type's own subject."""
    sub = run_cli(
        "subscribe",
        "--subject",
        f"{subject}.>",
        "--count",
        "40",
        "--timeout",
        "60",
        url=nats_server.url,
    )
    sub.logs.wait_for("Subscribed")
    pub = run_cli(
        "publish",
        "--subject",
        subject + ".{event_type}",
        "--count",
        "40",
        "--interval",
        "0",
        url=nats_server.url,
        env={"EVENT_TYPES": "user.login,order.created"},
    )
    assert pub.wait() == 0, pub.output()
    assert sub.wait() == 0, sub.output()
    received = sub.logs.where("Message received")
    assert len(received) == 40
    for record in received:
        assert record["subject"] == f"{subject}.{record['event_type']}"
    assert {r["event_type"] for r in received} == {"user.login", "order.created"}


def test_single_token_wildcard(
    nats_server: EmbeddedServer, run_cli: CliFactory, subject: str
) -> None:
    """A `*` subscriber gets one-token subjects and not deeper ones."""
    sub = run_cli("subscribe", "--subject", f"{subject}.*", url=nats_server.url)
    sub.logs.wait_for("Subscribed")
    shallow = run_cli(
        "publish",
        "--subject",
        f"{subject}.one",
        "--count",
        "5",
        "--interval",
        "0",
        "--source",
        "shallow",
        url=nats_server.url,
    )
    deep = run_cli(
        "publish",
        "--subject",
        f"{subject}.one.two",
        "--count",
        "5",
        "--interval",
        "0",
        "--source",
        "deep",
        url=nats_server.url,
    )
    assert shallow.wait() == 0
    assert deep.wait() == 0
    sub.logs.wait_for("Message received", count=5)
    sub.signal()
    assert sub.wait() == 0
    assert {r["source"] for r in sub.logs.where("Message received")} == {"shallow"}
    final = sub.logs.where("Subscriber metrics", final=True)[0]
    assert final["valid_messages"] == 5


def test_sigterm_drains_and_reports(
    nats_server: EmbeddedServer, run_cli: CliFactory, subject: str
) -> None:
    """SIGTERM stops both services with exit 0 and final metrics matching what flowed."""
    sub = run_cli("subscribe", "--subject", subject, url=nats_server.url)
    sub.logs.wait_for("Subscribed")
    pub = run_cli("publish", "--subject", subject, "--interval", "0.01", url=nats_server.url)
    sub.logs.wait_for("Message received", count=20)
    pub.signal()
    assert pub.wait(timeout=30) == 0, pub.output()
    published = pub.logs.where("Publisher metrics", final=True)[0]["total_messages"]
    sub.logs.wait_for("Message received", count=published)
    sub.signal()
    assert sub.wait(timeout=30) == 0, sub.output()
    final = sub.logs.where("Subscriber metrics", final=True)[0]
    assert final["valid_messages"] == published
    assert pub.logs.where("Shutdown requested", signal="SIGTERM")


def test_flood_publish_arrives_complete_and_in_order(
    nats_server: EmbeddedServer, run_cli: CliFactory, subject: str
) -> None:
    """Flat out, many batches of messages arrive complete and in order, one log line each."""
    count = 3000  # several of the publisher's batches
    sub = run_cli(
        "subscribe",
        "--subject",
        subject,
        "--count",
        str(count),
        "--timeout",
        "60",
        url=nats_server.url,
    )
    sub.logs.wait_for("Subscribed")
    pub = run_cli(
        "publish",
        "--subject",
        subject,
        "--count",
        str(count),
        "--interval",
        "0",
        "--source",
        "flood",
        url=nats_server.url,
    )
    assert pub.wait() == 0, pub.output()
    assert sub.wait() == 0, sub.output()
    expected = [f"flood-{n}" for n in range(1, count + 1)]
    assert [r["message_id"] for r in pub.logs.where("Message published")] == expected
    assert [r["message_id"] for r in sub.logs.where("Message received")] == expected
    assert pub.logs.where("Publisher metrics", final=True)[0]["total_messages"] == count
