"""`bench gateway`: HTTP publish through our gateway or the classic handler, and WebSocket fan-out.

`ours` and `classic` each run as their own server process (one uvicorn worker, httptools, uvloop)
on a throwaway stream, loaded with `connections` keep-alive clients (`http_load`). Our gateway
logs its `HTTP request` record per request as in production (to /dev/null here). `fanout` runs
the fan-out twice, without and with a stalled client, so their rates can be compared.
"""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from nats_pubsub.bench import jsadmin
from nats_pubsub.bench.http_load import run_load
from nats_pubsub.bench.report import LatencySummary, Summary
from nats_pubsub.testing import service_env

__all__ = ["MODES", "gateway_bench"]

MODES = ("ours", "classic", "fanout")
_BODY = b'{"source":"bench","data":{"event_type":"user.login","value":42,"random_field":"alpha"}}'
_READY_TIMEOUT = 60.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_ready(url: str, proc: subprocess.Popen[bytes]) -> None:
    """Until `url` answers 200 (the server listens and is connected), or the process died."""
    deadline = time.monotonic() + _READY_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server under test exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                if answer.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {_READY_TIMEOUT:g} s")


@contextmanager
def _server(mode: str, nats_url: str) -> Iterator[str]:
    """Our gateway or the classic app on a free port; its base URL."""
    port = _free_port()
    env = service_env(nats_url, {"LOG_LEVEL": "INFO", "GATEWAY_PORT": str(port)})
    if mode == "classic":
        args = ["-m", "uvicorn", "nats_pubsub.bench.classic_gateway:app", "--port", str(port),
                "--loop", "uvloop", "--http", "httptools", "--no-access-log",
                "--log-level", "warning"]  # fmt: skip
        ready = f"http://127.0.0.1:{port}/docs"
    else:
        args = ["-m", "nats_pubsub", "gateway"]
        ready = f"http://127.0.0.1:{port}/readyz"
    proc = subprocess.Popen(
        [sys.executable, *args], env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL
    )
    try:
        _wait_ready(ready, proc)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextmanager
def _stream(nats_url: str) -> Iterator[str]:
    tag = uuid.uuid4().hex[:10]
    subject = f"bench.gw.{tag}"
    stream = jsadmin.ensure_stream(nats_url, f"{subject}.x", f"BENCH_GW_{tag.upper()}")
    try:
        yield subject
    finally:
        jsadmin.delete_stream(nats_url, stream)


def _http(mode: str, nats_url: str, connections: int, seconds: float) -> Summary:
    with _stream(nats_url) as subject, _server(mode, nats_url) as base:
        target = f"{base}/api/messages/{subject}.x"
        run_load(target, _BODY, connections, min(seconds, 1.0))  # warm-up, not counted
        load = run_load(target, _BODY, connections, seconds)
    pct = load.percentiles
    latency = LatencySummary(
        count=load.requests,
        p50=round(pct.get("p50", 0.0), 3),
        p90=round(pct.get("p90", 0.0), 3),
        p99=round(pct.get("p99", 0.0), 3),
        p99_9=round(pct.get("p99_9", pct.get("p99", 0.0)), 3),
        max=round(pct.get("max", 0.0), 3),
    )
    return Summary(
        command="gateway",
        mode=mode,
        service="-",
        clients=connections,
        msgs=load.requests,
        size=len(_BODY),
        sent=load.requests,
        received=load.requests - load.errors,
        seconds=round(load.seconds, 3),
        rate=round(load.rate, 1),
        latency_ms=latency,
        extra={"load_client": load.client, "errors": load.errors},
    )


def _missed(base: str) -> int:
    with urllib.request.urlopen(f"{base}/metrics", timeout=5) as answer:
        for line in answer.read().decode().splitlines():
            if line.startswith("nats_pubsub_gateway_live_missed_messages_total{"):
                return int(float(line.rsplit(" ", 1)[1]))
    return 0


def _fanout(nats_url: str, clients: int, rate: float, seconds: float) -> Summary:
    from nats_pubsub.bench.fanout import MESSAGE_BYTES, fanout

    runs: dict[int, Any] = {}
    with _stream(nats_url) as subject, _server("ours", nats_url) as base:
        for stalled in (0, 1):
            runs[stalled] = asyncio.run(
                fanout(base, nats_url, f"{subject}.x", clients=clients, rate=rate,
                       seconds=seconds, stalled=stalled)
            )  # fmt: skip
        missed = _missed(base)
    calm, stall = runs[0], runs[1]
    mean = sum(stall.rates) / len(stall.rates)
    return Summary(
        command="gateway",
        mode="fanout",
        service="-",
        clients=clients,
        msgs=stall.published,
        size=MESSAGE_BYTES,
        sent=stall.published * clients,
        received=sum(stall.received),
        seconds=seconds,
        rate=round(mean, 1),
        latency_ms=LatencySummary(
            count=sum(stall.received),
            p50=stall.p50_ms,
            p90=stall.p90_ms,
            p99=stall.p99_ms,
            p99_9=stall.p99_ms,
            max=stall.max_ms,
        ),
        extra={
            "publish_rate": rate,
            "min_client_rate": round(min(stall.rates), 1),
            "every_client_got_all": all(n == stall.published for n in stall.received),
            "stalled_client_missed": missed,
            "rate_without_stalled_client": round(sum(calm.rates) / len(calm.rates), 1),
            "p99_ms_without_stalled_client": calm.p99_ms,
        },
    )


def gateway_bench(
    nats_url: str,
    mode: str,
    *,
    connections: int = 64,
    seconds: float = 5.0,
    fan_clients: int = 50,
    fan_rate: float = 2000.0,
) -> Summary:
    """One `bench gateway` measurement."""
    if mode == "fanout":
        return _fanout(nats_url, fan_clients, fan_rate, seconds)
    return _http(mode, nats_url, connections, seconds)
