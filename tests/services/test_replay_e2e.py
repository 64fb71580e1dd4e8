"""End to end: every replay start returns exactly the expected range of stream sequences."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nats_pubsub.server.embedded import EmbeddedServer
from nats_pubsub.testing import ServiceProcess
from tests.helpers.fixtures import CliFactory

pytestmark = pytest.mark.e2e


def _publish(run_cli: CliFactory, url: str, subject: str, count: int) -> None:
    pub = run_cli(
        "publish",
        "--jetstream",
        "--subject",
        subject,
        "--count",
        str(count),
        "--interval",
        "0",
        url=url,
    )
    assert pub.wait() == 0, pub.output()


def _replay(run_cli: CliFactory, url: str, *args: str) -> list[dict[str, object]]:
    proc: ServiceProcess = run_cli("replay", "--stream", "EVENTS", *args, url=url)
    assert proc.wait() == 0, proc.output()
    return [r for r in proc.logs.records if "sequence" in r and "payload" in r]


@pytest.fixture
def events(nats_server: EmbeddedServer, run_cli: CliFactory, subject: str) -> str:
    """EVENTS holds 20 events: 1..10 on <subject>.a, 11..20 on <subject>.b."""
    _publish(run_cli, nats_server.url, f"events.{subject}.a", 10)
    _publish(run_cli, nats_server.url, f"events.{subject}.b", 10)
    return subject


def _seqs(records: list[dict[str, object]]) -> list[object]:
    return [r["sequence"] for r in records]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ((), list(range(1, 21))),
        (("--start-seq", "5"), list(range(5, 21))),
        (("--last", "3"), [18, 19, 20]),
        (("--start-seq", "25"), []),
    ],
)
def test_replay_ranges(
    nats_server: EmbeddedServer,
    run_cli: CliFactory,
    events: str,
    args: tuple[str, ...],
    expected: list[int],
) -> None:
    """Start at the beginning, at a sequence, or N from the end."""
    assert _seqs(_replay(run_cli, nats_server.url, *args)) == expected


def test_replay_filter_and_last(
    nats_server: EmbeddedServer, run_cli: CliFactory, events: str
) -> None:
    """--subject narrows the history; --last then counts matching messages only."""
    url = nats_server.url
    assert _seqs(_replay(run_cli, url, "--subject", f"events.{events}.a")) == list(range(1, 11))
    got = _replay(run_cli, url, "--subject", f"events.{events}.a", "--last", "2")
    assert _seqs(got) == [9, 10]


def test_replay_since_a_timestamp(
    nats_server: EmbeddedServer, run_cli: CliFactory, events: str
) -> None:
    """--since <RFC3339> starts at the first message stored at or after that time."""
    url = nats_server.url
    everything = _replay(run_cli, url)
    since = str(everything[10]["time"])  # sequence 11, the first on .b
    expected = [r["sequence"] for r in everything if str(r["time"]) >= since]
    assert _seqs(_replay(run_cli, url, "--since", since)) == expected
    assert _seqs(_replay(run_cli, url, "--since", "1h")) == list(range(1, 21))


def test_replay_writes_a_file_and_a_summary(
    nats_server: EmbeddedServer, run_cli: CliFactory, events: str, tmp_path: Path
) -> None:
    """--output gets one JSON object per message; the summary record says what was read."""
    target = tmp_path / "out.jsonl"
    proc = run_cli("replay", "--stream", "EVENTS", "--output", str(target), url=nats_server.url)
    assert proc.wait() == 0, proc.output()
    lines = [json.loads(line) for line in target.read_text().splitlines()]
    assert [line["sequence"] for line in lines] == list(range(1, 21))
    assert lines[0]["payload"]["message_id"] == "publisher-1"
    assert lines[0]["headers"]["Nats-Msg-Id"].startswith("publisher-1@")
    summary = proc.stderr.where("Replay finished")[0]  # records go to stderr, data to stdout
    assert (summary["count"], summary["first_sequence"], summary["last_sequence"]) == (20, 1, 20)


def test_replay_of_a_missing_stream_is_a_clear_error(
    nats_server: EmbeddedServer, run_cli: CliFactory
) -> None:
    """A stream that does not exist: exit 1 and a record naming it."""
    proc = run_cli("replay", "--stream", "NOPE", url=nats_server.url)
    assert proc.wait() == 1
    assert "stream NOPE does not exist" in proc.stderr.where("Replay failed")[0]["error"]


@pytest.mark.parametrize(
    ("replay", "expected"),
    [
        ("all", list(range(1, 21))),
        ("seq:15", list(range(15, 21))),
        ("last", [20]),
        ("last-per-subject", [10, 20]),
    ],
)
def test_durable_consumer_starts(
    nats_server: EmbeddedServer,
    run_cli: CliFactory,
    events: str,
    replay: str,
    expected: list[int],
) -> None:
    """A new durable consumer starts where --replay says."""
    sub = run_cli(
        "subscribe",
        "--jetstream",
        "--subject",
        f"events.{events}.>",
        "--replay",
        replay,
        "--count",
        str(len(expected)),
        "--timeout",
        "60",
        url=nats_server.url,
    )
    assert sub.wait() == 0, sub.output()
    assert [r["js_sequence"] for r in sub.logs.where("Message received")] == expected


def test_durable_consumer_new_gets_only_later_messages(
    nats_server: EmbeddedServer, run_cli: CliFactory, events: str
) -> None:
    """--replay new skips the history and receives what is published afterwards."""
    url = nats_server.url
    sub = run_cli(
        "subscribe",
        "--jetstream",
        "--subject",
        f"events.{events}.>",
        "--replay",
        "new",
        "--count",
        "3",
        "--timeout",
        "60",
        url=url,
    )
    sub.logs.wait_for("Subscribed")
    _publish(run_cli, url, f"events.{events}.c", 3)
    assert sub.wait() == 0, sub.output()
    assert [r["js_sequence"] for r in sub.logs.where("Message received")] == [21, 22, 23]


def test_streams_lists_counts_as_json(
    nats_server: EmbeddedServer, run_cli: CliFactory, events: str
) -> None:
    """`streams --json` reports each stream's subjects, count and sequences."""
    proc = run_cli("streams", "--json", url=nats_server.url)
    assert proc.wait() == 0, proc.output()
    rows = json.loads(proc.logs.raw[0])
    events_row = next(row for row in rows if row["stream"] == "EVENTS")
    assert events_row["subjects"] == ["events.>"]
    assert (events_row["messages"], events_row["first_seq"], events_row["last_seq"]) == (20, 1, 20)


def test_replay_output_stays_one_object_per_line(
    nats_server: EmbeddedServer, run_cli: CliFactory, subject: str
) -> None:
    """Pretty-printed JSON, text and binary payloads each come out as one line of JSON."""
    from tests.helpers.fixtures import publish_raw

    _publish(run_cli, nats_server.url, f"events.{subject}.a", 1)  # creates EVENTS
    publish_raw(nats_server.url, f"events.{subject}.x", [b'{\n  "a": 1\n}', b"plain", b"\xff\x00"])
    got = _replay(run_cli, nats_server.url, "--subject", f"events.{subject}.x")
    assert [r["payload"] for r in got] == [{"a": 1}, "plain", "/wA="]
    assert [r.get("payload_encoding") for r in got] == [None, "text", "base64"]


def test_replay_without_stream_after_publish_jetstream(
    nats_server: EmbeddedServer, run_cli: CliFactory, subject: str
) -> None:
    """The case a user hit: `publish --jetstream` then `replay --last 5` replays EVENTS (the only
    stream); once PAYMENTS exists too, --subject picks the stream, and neither asks (exit 2)."""
    url = nats_server.url
    _publish(run_cli, url, "events.test", 7)
    only = run_cli("replay", "--last", "5", url=url)
    assert only.wait() == 0, only.output()
    assert [r["sequence"] for r in only.logs.records] == [3, 4, 5, 6, 7]
    assert only.stderr.where("Replay finished")[0]["stream"] == "EVENTS"
    pay = run_cli("payments", "--jetstream", "--count", "2", "--interval", "0", url=url)
    assert pay.wait() == 0, pay.output()
    by_subject = run_cli("replay", "--subject", "payments.>", url=url)
    assert by_subject.wait() == 0, by_subject.output()
    assert len(by_subject.logs.records) == 2
    assert by_subject.stderr.where("Replay finished")[0]["stream"] == "PAYMENTS"
    ask = run_cli("replay", url=url)
    assert ask.wait() == 2, ask.output()
    error = ask.stderr.where("Replay failed")[0]["error"]
    assert error == "choose a stream with --stream: EVENTS (events.>), PAYMENTS (payments.>)"


def test_replay_with_no_streams_says_so(nats_server: EmbeddedServer, run_cli: CliFactory) -> None:
    """No stream at all: exit 1, nothing to replay."""
    proc = run_cli("replay", url=nats_server.url)
    assert proc.wait() == 1, proc.output()
    assert proc.stderr.where("Replay failed")[0]["error"].startswith("the server has no streams")
