"""End to end: keeping `up`'s log when its output goes through `tee` and Ctrl+C stops it all."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import pytest

from nats_pubsub.testing import LogRecords, service_env
from tests.helpers.fixtures import free_port

pytestmark = pytest.mark.e2e

SERVICES = {"nats-publisher", "nats-subscriber", "payment-publisher", "message-logger"}


def _read(stream: IO[bytes], into: LogRecords) -> None:
    for raw in stream:
        into.add(raw.decode("utf-8", "replace").rstrip("\n"))


@pytest.fixture
def pipeline(tmp_path: Path) -> Iterator[list[subprocess.Popen[bytes]]]:
    """`nats-pubsub up | tee ...` as a shell runs it: one process group, so Ctrl+C reaches all."""
    procs: list[subprocess.Popen[bytes]] = []
    yield procs
    for proc in reversed(procs):
        if proc.poll() is None:
            proc.kill()
        proc.wait()


def _up_into_tee(
    procs: list[subprocess.Popen[bytes]], tmp_path: Path, tee_args: list[str], env: dict[str, str]
) -> tuple[subprocess.Popen[bytes], subprocess.Popen[bytes], LogRecords]:
    """Start `up | tee ARGS`; what tee passes on is read into the records returned."""
    tee = shutil.which("tee")
    if tee is None:
        pytest.skip("needs tee (coreutils)")
    url = f"nats://127.0.0.1:{free_port()}"
    up = subprocess.Popen(
        [sys.executable, "-m", "nats_pubsub", "up", "--store-dir", str(tmp_path / "store"),
         "--http-port", "0"],
        stdout=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        env=service_env(url, {"PUBLISH_INTERVAL": "0.1", **env}),
        process_group=0,
    )  # fmt: skip
    procs.append(up)
    assert up.stdout is not None
    teeing = subprocess.Popen(
        [tee, *tee_args], stdin=up.stdout, stdout=subprocess.PIPE, process_group=up.pid
    )
    up.stdout.close()  # tee holds the pipe now, as in a shell
    procs.append(teeing)
    shown = LogRecords()
    assert teeing.stdout is not None
    threading.Thread(target=_read, args=(teeing.stdout, shown), daemon=True).start()
    return up, teeing, shown


def _finals(path: Path) -> set[str]:
    records = [json.loads(line) for line in path.read_text().splitlines()]
    assert records[-1]["message"] == "Stack stopped"
    return {r["logger"] for r in records if r.get("final")}


def test_log_file_keeps_the_final_metrics_when_tee_dies(
    pipeline: list[subprocess.Popen[bytes]], tmp_path: Path
) -> None:
    """`LOG_FILE=run.log nats-pubsub up | tee out.log`, Ctrl+C: tee dies at once, up stops the
    stack in order anyway (exit 0) and run.log holds every service's final metrics."""
    log_file, teed = tmp_path / "run.log", tmp_path / "out.log"
    up, tee, shown = _up_into_tee(pipeline, tmp_path, [str(teed)], {"LOG_FILE": str(log_file)})
    shown.wait_for("Message received", timeout=60)
    os.killpg(up.pid, signal.SIGINT)  # Ctrl+C: the whole foreground group
    assert tee.wait(timeout=30) != 0  # killed by the signal, as a plain tee is
    assert up.wait(timeout=90) == 0
    assert _finals(log_file) == SERVICES
    assert '"message":"Stack running; press Ctrl+C to stop"' in log_file.read_text()


def test_tee_ignoring_interrupts_keeps_the_final_metrics(
    pipeline: list[subprocess.Popen[bytes]], tmp_path: Path
) -> None:
    """The other documented way: `nats-pubsub up | tee -i run.log` keeps reading until up ends."""
    teed = tmp_path / "run.log"
    up, tee, shown = _up_into_tee(pipeline, tmp_path, ["-i", str(teed)], {})
    shown.wait_for("Message received", timeout=60)
    os.killpg(up.pid, signal.SIGINT)
    assert up.wait(timeout=90) == 0
    assert tee.wait(timeout=30) == 0
    assert _finals(teed) == SERVICES
