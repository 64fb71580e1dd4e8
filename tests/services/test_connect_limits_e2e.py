"""End to end: how long each command tries to reach NATS, and what it says meanwhile."""

from __future__ import annotations

import itertools
import socket
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime

import pytest

from nats_pubsub.server.embedded import EmbeddedServer
from nats_pubsub.testing import service_env
from tests.helpers.fixtures import CliFactory, free_port

pytestmark = pytest.mark.e2e


@pytest.fixture
def silent_url() -> Iterator[str]:
    """A loopback port that accepts connections and never says a word (no INFO greeting)."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield f"nats://127.0.0.1:{listener.getsockname()[1]}"


@pytest.mark.parametrize("command", ["subscribe", "monitor"])
@pytest.mark.parametrize("target", ["nothing", "silent"])
def test_timeout_bounds_connecting(
    run_cli: CliFactory, silent_url: str, command: str, target: str
) -> None:
    """--timeout bounds the whole run: with no NATS there, exit 1 with one error naming it."""
    url = silent_url if target == "silent" else f"nats://127.0.0.1:{free_port()}"
    proc = run_cli(command, "--count", "1", "--timeout", "3", url=url)
    assert proc.wait(timeout=20) == 1, proc.output()
    errors = [r for r in proc.logs.records if r["level"] == "ERROR"]
    assert [r["message"] for r in errors] == ["Could not connect to NATS"], proc.output()
    assert f"NATS at {url} was not reachable within 3 s (--timeout)" in errors[0]["error"]


@pytest.mark.parametrize("command", [("streams",), ("replay", "--stream", "EVENTS")])
@pytest.mark.parametrize("target", ["nothing", "silent"])
def test_one_shot_commands_give_up_after_connect_timeout(
    run_cli: CliFactory, silent_url: str, command: tuple[str, ...], target: str
) -> None:
    """streams and replay try for --connect-timeout seconds, then exit 1 naming the URL."""
    url = silent_url if target == "silent" else f"nats://127.0.0.1:{free_port()}"
    proc = run_cli(*command, "--connect-timeout", "2", url=url)
    assert proc.wait(timeout=20) == 1, proc.output()
    errors = [r for r in proc.stderr.records if r["level"] == "ERROR"]
    assert [r["message"] for r in errors] == ["Could not connect to NATS"], proc.output()
    assert f"NATS at {url} was not reachable within 2 s (--connect-timeout)" in errors[0]["error"]
    assert proc.logs.raw == []  # nothing on stdout


def test_one_shot_connect_timeout_has_a_default(run_cli: CliFactory) -> None:
    """Without --connect-timeout a one-shot command still gives up (after 5 s)."""
    url = f"nats://127.0.0.1:{free_port()}"
    proc = run_cli("streams", url=url)
    assert proc.wait(timeout=30) == 1, proc.output()
    assert "within 5 s (--connect-timeout)" in proc.output()


def test_bench_gives_up_naming_the_url() -> None:
    """bench against a dead server: one line on stderr naming the URL, exit 1."""
    url = f"nats://127.0.0.1:{free_port()}"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "nats_pubsub",
            "bench",
            "pub",
            "--url",
            url,
            "--connect-timeout",
            "1",
        ],
        capture_output=True,
        text=True,
        env=service_env(url),
        timeout=60,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"nats-pubsub bench: NATS at {url} was not reachable within 1 s")


def _seconds(record: dict[str, object]) -> float:
    stamp = str(record["timestamp"]).replace("Z", "+00:00")
    return datetime.fromisoformat(stamp).timestamp()


def test_retry_record_says_the_wait_there_is(run_cli: CliFactory) -> None:
    """Each `NATS not reachable, retrying` comes retry_in_seconds after the one before (not
    one RECONNECT_WAIT later than that)."""
    url = f"nats://127.0.0.1:{free_port()}"
    sub = run_cli("subscribe", url=url, env={"RECONNECT_WAIT": "1"})
    retries = sub.logs.wait_for("NATS not reachable, retrying", count=3, timeout=30)[:3]
    assert [r["retry_in_seconds"] for r in retries] == [1.0, 2.0, 3.0]
    for before, after in itertools.pairwise(retries):
        gap = _seconds(after) - _seconds(before)
        assert before["retry_in_seconds"] - 0.05 <= gap < before["retry_in_seconds"] + 0.5, (
            before,
            after,
        )


def test_streams_keeps_connection_chatter_out_of_its_output(
    nats_server: EmbeddedServer, run_cli: CliFactory
) -> None:
    """On success a one-shot command writes its result and no `Connected` / `Connection
    closed` lines; with LOG_LEVEL=DEBUG they are there."""
    quiet = run_cli("streams", url=nats_server.url, env={"LOG_FORMAT": "console"})
    assert quiet.wait() == 0, quiet.output()
    assert quiet.stderr.raw == []
    assert quiet.logs.raw[0].startswith("stream ") or quiet.logs.raw == ["no streams"]
    chatty = run_cli("streams", "--log-level", "DEBUG", url=nats_server.url)
    assert chatty.wait() == 0, chatty.output()
    said = [r["message"] for r in chatty.stderr.records]
    assert "Connected to NATS" in said
    assert "Connection closed" in said
