"""End to end: replay through the pull feed is complete and ordered, follows, paces and resumes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nats_pubsub.domain.timeutil import parse_timestamp_ns
from nats_pubsub.server.embedded import EmbeddedServer
from nats_pubsub.testing import ServiceProcess
from tests.helpers.fixtures import CliFactory, ServerFactory

pytestmark = pytest.mark.e2e


def _publish(run_cli: CliFactory, url: str, subject: str, count: int, interval: str = "0") -> None:
    pub = run_cli(
        "publish",
        "--jetstream",
        "--subject",
        subject,
        "--count",
        str(count),
        "--interval",
        interval,
        url=url,
    )
    assert pub.wait(300) == 0, pub.output()


def _data(proc: ServiceProcess) -> list[dict[str, object]]:
    return [r for r in proc.logs.records if "sequence" in r and "payload" in r]


def test_large_stream_replays_completely_in_order(
    nats_server: EmbeddedServer, run_cli: CliFactory, subject: str, tmp_path: Path
) -> None:
    """50,000 messages: every one written once, in stream order, with its own payload."""
    total = 50_000
    _publish(run_cli, nats_server.url, f"events.{subject}", total)
    target = tmp_path / "all.jsonl"
    proc = run_cli("replay", "--stream", "EVENTS", "--output", str(target), url=nats_server.url)
    assert proc.wait(300) == 0, proc.output()
    lines = [json.loads(line) for line in target.read_text().splitlines()]
    assert [line["sequence"] for line in lines] == list(range(1, total + 1))
    ids = [line["payload"]["message_id"] for line in lines]
    assert ids == [f"publisher-{n}" for n in range(1, total + 1)]
    summary = proc.stderr.where("Replay finished")[0]
    assert (summary["count"], summary["first_sequence"], summary["last_sequence"]) == (
        total,
        1,
        total,
    )


def test_replay_resumes_after_a_server_restart(
    start_server: ServerFactory, run_cli: CliFactory, subject: str
) -> None:
    """The server killed and restarted mid-replay: the replay resumes at the next sequence."""
    server = start_server()
    total = 600
    _publish(run_cli, server.url, f"events.{subject}", total, interval="0.005")
    # Paced replay pulls as it writes, so most of the history is still unread at the cut.
    proc = run_cli("replay", "--stream", "EVENTS", "--speed", "original", url=server.url)
    proc.logs.wait_for(lambda r: "sequence" in r, count=50, timeout=60)
    server.kill()
    server.start()
    assert proc.wait(180) == 0, proc.output()
    assert [r["sequence"] for r in _data(proc)] == list(range(1, total + 1))
    assert proc.stderr.where("Replay consumer replaced"), proc.output()


def test_follow_writes_history_then_new_messages(
    nats_server: EmbeddedServer, run_cli: CliFactory, subject: str
) -> None:
    """--follow writes the history, then what is published later, until stopped."""
    url = nats_server.url
    _publish(run_cli, url, f"events.{subject}.a", 5)
    proc = run_cli("replay", "--stream", "EVENTS", "--follow", url=url)
    proc.logs.wait_for(lambda r: r.get("sequence") == 5, timeout=60)
    _publish(run_cli, url, f"events.{subject}.b", 5)
    proc.logs.wait_for(lambda r: r.get("sequence") == 10, timeout=60)
    proc.signal()
    assert proc.wait(60) == 0, proc.output()
    assert [r["sequence"] for r in _data(proc)] == list(range(1, 11))
    assert proc.stderr.where("Replay finished")[0]["count"] == 10


def test_speed_original_keeps_the_gaps(
    nats_server: EmbeddedServer, run_cli: CliFactory, subject: str
) -> None:
    """--speed original takes at least as long as the stored messages are apart."""
    url = nats_server.url
    _publish(run_cli, url, f"events.{subject}", 8, interval="0.2")
    proc = run_cli("replay", "--stream", "EVENTS", "--speed", "original", url=url)
    assert proc.wait(60) == 0, proc.output()
    records = _data(proc)
    assert [r["sequence"] for r in records] == list(range(1, 9))
    summary = proc.stderr.where("Replay finished")[0]
    first, last = str(summary["first_time"]), str(summary["last_time"])
    span = (parse_timestamp_ns(last) - parse_timestamp_ns(first)) / 1e9
    assert span >= 1.0
    assert summary["seconds"] >= span - 0.05


def test_empty_stream_replays_nothing(nats_server: EmbeddedServer, run_cli: CliFactory) -> None:
    """An empty stream: no lines, exit 0, a summary with count 0 and no sequences."""
    ensure = run_cli("streams", "--ensure", url=nats_server.url)
    assert ensure.wait() == 0, ensure.output()
    proc = run_cli("replay", "--stream", "DLQ", url=nats_server.url)
    assert proc.wait(60) == 0, proc.output()
    assert _data(proc) == []
    summary = proc.stderr.where("Replay finished")[0]
    assert (summary["count"], summary["first_sequence"], summary["last_sequence"]) == (
        0,
        None,
        None,
    )


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_output_that_cannot_be_written_fails_loudly(
    nats_server: EmbeddedServer, run_cli: CliFactory, subject: str
) -> None:
    """A full disk: exit 1 and a `Replay failed` record, not a silent partial output."""
    _publish(run_cli, nats_server.url, f"events.{subject}", 10)
    proc = run_cli("replay", "--stream", "EVENTS", "--output", "/dev/full", url=nats_server.url)
    assert proc.wait(60) == 1, proc.output()
    assert "writing the output failed" in proc.stderr.where("Replay failed")[0]["error"]
