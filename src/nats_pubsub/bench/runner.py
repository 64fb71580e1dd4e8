"""Runs one `bench` measurement: worker processes started in order, their results added up.

Subscribers start first and say when they are subscribed; then the publishers start. Every
client is its own process, so `--clients N` uses N processes per side; counts and rates are summed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from nats_pubsub.bench import jsadmin
from nats_pubsub.bench.payloads import natural_size
from nats_pubsub.bench.protocol import WorkerSpec
from nats_pubsub.bench.report import LatencySummary, Progress, Summary, merge_histograms

__all__ = ["COMMANDS", "BenchError", "BenchRequest", "run_bench", "worker_env"]

COMMANDS = ("pub", "sub", "pubsub", "latency", "js-pub", "js-replay")
_READY_TIMEOUT = 60.0
_RUN_TIMEOUT = 900.0
# Settings our services read from the environment: a benchmark sets its own.
_ENV_PREFIXES = (
    "NATS_",
    "JS_",
    "JETSTREAM",
    "STREAM_",
    "QUEUE_",
    "PUBLISH_",
    "EVENT_",
    "LOG_",
    "METRICS_",
    "REPLAY_",
    "CONSUMER_",
    "HOSTNAME",
)


class BenchError(Exception):
    """A worker failed or never reported."""


@dataclass(frozen=True)
class BenchRequest:
    """What to measure: `command` in `mode` with this load."""

    command: str
    url: str
    msgs: int
    mode: str = "ours"
    size: int = 0
    clients: int = 1
    rate: float = 0.0
    service: str = "subscriber"
    progress: bool | None = None  # None: when stderr is a terminal


def worker_env(environ: Mapping[str, str]) -> dict[str, str]:
    """A worker's environment: ours without the settings a benchmark sets itself, the process
    switches (NATS_PUBSUB_*: exec, fast path) kept."""
    return {
        k: v
        for k, v in environ.items()
        if k.startswith("NATS_PUBSUB_") or not k.startswith(_ENV_PREFIXES)
    }


class _Worker:
    """One worker process and what it has said so far."""

    def __init__(self, spec: WorkerSpec) -> None:
        self.spec = spec
        env = worker_env(os.environ)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "nats_pubsub.bench.worker", spec.to_json()],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        self.ready = threading.Event()
        self.progress = 0
        self.result: dict[str, Any] | None = None
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            try:
                said = json.loads(line)
            except ValueError:
                continue
            if said.get("ready"):
                self.ready.set()
            elif "progress" in said:
                self.progress = int(said["progress"])
            elif "result" in said:
                result: dict[str, Any] = said["result"]
                self.result = result
                self.progress = int(result.get("messages", self.progress))
        self.ready.set()

    def running(self) -> bool:
        return self.proc.poll() is None

    def finish(self, timeout: float = _RUN_TIMEOUT) -> dict[str, Any]:
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._reader.join(10)
        if self.result is None:
            raise BenchError(
                f"{self.spec.role}/{self.spec.mode} worker exited {self.proc.returncode}"
            )
        return self.result

    def kill(self) -> None:
        if self.running():
            self.proc.kill()
            self.proc.wait()


def _split(total: int, parts: int) -> list[int]:
    base, extra = divmod(total, parts)
    return [base + (1 if i < extra else 0) for i in range(parts)]


def _start(spec: WorkerSpec, count: int) -> list[_Worker]:
    return [_Worker(replace(spec, index=i)) for i in range(count)]


def _watch(workers: list[_Worker], progress: Progress) -> None:
    while any(w.running() for w in workers):
        progress.show(sum(w.progress for w in workers))
        time.sleep(0.1)
    progress.show(sum(w.progress for w in workers))
    progress.end()


def _publishers(req: BenchRequest, base: WorkerSpec) -> list[_Worker]:
    return [
        _Worker(replace(base, msgs=share, index=i))
        for i, share in enumerate(_split(req.msgs, req.clients))
        if share
    ]


def _measure(req: BenchRequest, show: bool) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Run the workers of one command: (subscriber results, publisher results)."""
    base = WorkerSpec(
        role="sub",
        mode=req.mode,
        url=req.url,
        subject=f"bench.{uuid.uuid4().hex[:10]}",
        msgs=req.msgs,
        size=req.size,
        service=req.service,
        progress=show,
    )
    subs: list[_Worker] = []
    pubs: list[_Worker] = []
    try:
        if req.command in ("sub", "pubsub", "latency"):
            subs = _start(replace(base, latency=req.command != "sub"), req.clients)
            for worker in subs:
                if not worker.ready.wait(_READY_TIMEOUT) or worker.result is not None:
                    raise BenchError("a subscriber did not get ready")
            pub_mode = {"sub": "bare", "pubsub": req.mode, "latency": "ours"}[req.command]
            pub = replace(base, role="pub", mode=pub_mode, progress=False, rate=req.rate)
            pubs = [_Worker(pub)] if req.command != "pubsub" else _publishers(req, pub)
            _watch(subs, Progress(req.command, req.msgs * req.clients))
        else:
            pubs = _publishers(req, replace(base, role="pub"))
            _watch(pubs, Progress(req.command, req.msgs))
        return [w.finish() for w in subs], [w.finish() for w in pubs]
    finally:
        for worker in subs + pubs:
            worker.kill()


def _js_pub(
    req: BenchRequest, show: bool
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], int]:
    tag = uuid.uuid4().hex[:10]
    subject = f"bench.pub.{tag}"
    stream = jsadmin.ensure_stream(req.url, subject, f"BENCH_PUB_{tag.upper()}")
    try:
        base = WorkerSpec("js-pub", req.mode, req.url, subject, req.msgs, req.size, progress=show)
        pubs = _publishers(req, replace(base, stream=stream))
        try:
            _watch(pubs, Progress(req.command, req.msgs))
            results = [w.finish() for w in pubs]
        finally:
            for worker in pubs:
                worker.kill()
        return [], results, jsadmin.stored(req.url, stream, subject)
    finally:
        jsadmin.delete_stream(req.url, stream)


def _js_replay(req: BenchRequest) -> tuple[list[dict[str, Any]], int]:
    tag = uuid.uuid4().hex[:10]
    stream, subject = f"BENCH_{tag.upper()}", f"bench.replay.{tag}"
    fill = _Worker(
        WorkerSpec("js-fill", "ours", req.url, subject, req.msgs, req.size, stream=stream)
    )
    try:
        fill.finish()
        stored = jsadmin.stored(req.url, stream, subject)
        spec = WorkerSpec("js-replay", req.mode, req.url, subject, stored, stream=stream)
        readers = _start(spec, req.clients)
        try:
            return [w.finish() for w in readers], stored
        finally:
            for worker in readers:
                worker.kill()
    finally:
        fill.kill()
        jsadmin.delete_stream(req.url, stream)


def run_bench(req: BenchRequest) -> Summary:
    """Measure `req` and add up what its workers report."""
    if req.command not in COMMANDS:
        raise ValueError(f"unknown bench command {req.command!r}")
    show = sys.stderr.isatty() if req.progress is None else req.progress
    size = req.size or natural_size()
    req = replace(req, size=size)
    publish_rate: float | None = None
    if req.command == "js-replay":
        measured, sent = _js_replay(req)
        received = sum(r["messages"] for r in measured)
    elif req.command == "js-pub":
        _, measured, received = _js_pub(req, show)
        sent = sum(r["messages"] for r in measured)
    else:
        subs, pubs = _measure(req, show)
        sent = sum(r["messages"] for r in pubs)
        measured = subs or pubs
        received = sum(r["messages"] for r in subs) if subs else sent
        publish_rate = sum(r["rate"] for r in pubs) if subs else None
    hists = [r["hdr"] for r in measured if r.get("hdr")]
    return Summary(
        command=req.command,
        mode=req.mode,
        service=req.service if req.command in ("sub", "pubsub") else "-",
        clients=req.clients,
        msgs=req.msgs,
        size=size,
        sent=sent,
        received=received,
        seconds=round(max(r["seconds"] for r in measured), 4),
        rate=round(sum(r["rate"] for r in measured), 1),
        publish_rate=round(publish_rate, 1) if publish_rate is not None else None,
        latency_ms=LatencySummary.of(merge_histograms(hists)) if hists else None,
    )
