"""End to end: the publish command flat out (--interval 0), on each of its batching paths."""

from __future__ import annotations

from pathlib import Path

import pytest

from nats_pubsub.server.embedded import EmbeddedServer
from nats_pubsub.testing import ServiceProcess
from tests.helpers.fixtures import CliFactory, ServerFactory

pytestmark = pytest.mark.e2e


def _subscriber(run_cli: CliFactory, url: str, subject: str, count: int) -> ServiceProcess:
    sub = run_cli(
        "subscribe", "--subject", subject, "--count", str(count), "--timeout", "60", url=url
    )
    sub.logs.wait_for("Subscribed")
    return sub


# Flags of each flat-out path that builds from formats: core NATS, and fast-ingest batches
# (`ingest_build`, whose records are written when the stream acks them).
_PATHS = {"core": (), "fast-ingest": ("--jetstream", "--fast-ingest", "--window", "32")}


@pytest.mark.parametrize("path", list(_PATHS))
def test_flood_writes_metrics_every_50_between_the_records(
    nats_server: EmbeddedServer, run_cli: CliFactory, subject: str, path: str
) -> None:
    """Flat out, a metrics record follows every 50th published record, counting exactly 50 more."""
    pub = run_cli(
        "publish",
        *_PATHS[path],
        *("--subject", f"events.{subject}", "--count", "620", "--interval", "0"),
        url=nats_server.url,
    )
    assert pub.wait() == 0, pub.output()
    published = 0
    metrics_at = []
    for record in pub.logs.records:
        if record["message"] == "Message published":
            published += 1
            assert record["sequence"] == published
        elif record["message"] == "Publisher metrics" and not record.get("final"):
            assert record["total_messages"] == published
            metrics_at.append(published)
    assert published == 620
    assert metrics_at == list(range(50, 601, 50))


@pytest.mark.parametrize("path", list(_PATHS))
def test_flood_with_console_logs_arrives_complete_and_in_order(
    nats_server: EmbeddedServer, run_cli: CliFactory, subject: str, path: str
) -> None:
    """With console logs (no line formats) flooding publishes every message, in order."""
    count = 1000
    subject = f"events.{subject}"
    sub = _subscriber(run_cli, nats_server.url, subject, count)
    pub = run_cli(
        "publish",
        *_PATHS[path],
        "--subject",
        subject,
        "--count",
        str(count),
        "--interval",
        "0",
        "--source",
        "plain",
        "--log-format",
        "console",
        url=nats_server.url,
    )
    assert pub.wait() == 0, pub.output()
    assert sub.wait() == 0, sub.output()
    got = [r["message_id"] for r in sub.logs.where("Message received")]
    assert got == [f"plain-{n}" for n in range(1, count + 1)]
    assert sum("Message published" in line for line in pub.logs.raw) == count


@pytest.mark.parametrize("path", list(_PATHS))
def test_flood_reports_messages_over_the_servers_limit_and_sends_the_rest(
    start_server: ServerFactory, run_cli: CliFactory, subject: str, tmp_path: Path, path: str
) -> None:
    """Payloads over max_payload fail one by one with an error; every other message arrives."""
    config = tmp_path / "small.conf"
    config.write_text("max_payload: 1024\n")
    server = start_server(config_file=config, jetstream=path != "core")
    count = 300
    subject = f"events.{subject}"
    sub = _subscriber(run_cli, server.url, subject, count)
    big = "big." + "x" * 900  # its events are over 1 KiB; user.login's are not
    pub = run_cli(
        "publish",
        *_PATHS[path],
        "--subject",
        subject,
        "--count",
        str(count),
        "--interval",
        "0",
        "--source",
        "mixed",
        "--event-types",
        f"user.login,{big}",
        url=server.url,
    )
    assert pub.wait() == 1, pub.output()
    failed = pub.logs.where("Publish failed")
    published = pub.logs.where("Message published")
    assert failed, pub.output()
    assert published, pub.output()
    assert len(failed) + len(published) == count
    assert {r["event_type"] for r in published} == {"user.login"}
    final = pub.logs.where("Publisher metrics", final=True)[0]
    assert (final["total_messages"], final["total_errors"]) == (len(published), len(failed))
    sent_ids = [r["message_id"] for r in published]
    sub.logs.wait_for("Message received", count=len(sent_ids), timeout=60)
    got = [r["message_id"] for r in sub.logs.where("Message received")]
    assert got == sent_ids
