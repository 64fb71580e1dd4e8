"""HTTP load for `bench gateway`: `wrk` when installed (C, light on the shared cores), else a
Python client; both keep `connections` keep-alive connections busy with one POST each at a time.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import NamedTuple
from urllib.parse import urlsplit

from hdrh.histogram import HdrHistogram

__all__ = ["LoadResult", "run_load"]

_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}
_MAX = re.compile(r"^\s+Latency\s+\S+\s+\S+\s+([\d.]+)(us|ms|s)", re.MULTILINE)
_PERCENTILE = re.compile(r"^\s+(\d+(?:\.\d+)?)%\s+([\d.]+)(us|ms|s)\s*$", re.MULTILINE)


class LoadResult:
    """Requests per second, errors, latency percentiles (ms), and which client measured."""

    def __init__(
        self, rate: float, requests: int, errors: int, seconds: float, client: str
    ) -> None:
        self.rate, self.requests, self.errors = rate, requests, errors
        self.seconds, self.client = seconds, client
        self.percentiles: dict[str, float] = {}


class _Target(NamedTuple):
    host: str
    port: int
    path: str


def _lua(body: bytes) -> str:
    quoted = body.decode().replace("\\", "\\\\").replace("'", "\\'")
    return (
        'wrk.method = "POST"\n'
        f"wrk.body = '{quoted}'\n"
        'wrk.headers["Content-Type"] = "application/json"\n'
    )


def _wrk(url: str, body: bytes, connections: int, seconds: float) -> LoadResult:
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "post.lua"
        script.write_text(_lua(body))
        out = subprocess.run(
            ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--latency",
             "-s", str(script), url],
            capture_output=True, text=True, check=True, timeout=seconds + 60,
        ).stdout  # fmt: skip
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = int(bad.group(1)) if bad else 0
    socket_errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out
    )
    if socket_errors:
        errors += sum(int(n) for n in socket_errors.groups())
    result = LoadResult(rate, total, errors, seconds, "wrk")
    for pct, value, unit in _PERCENTILE.findall(out):
        result.percentiles[f"p{pct.replace('.', '_')}"] = float(value) * _UNITS[unit]
    most = _MAX.search(out)
    if most:
        result.percentiles["max"] = float(most.group(1)) * _UNITS[most.group(2)]
    return result


async def _client(
    target: _Target, request: bytes, deadline: float, hist: HdrHistogram
) -> tuple[int, int]:
    reader, writer = await asyncio.open_connection(target.host, target.port)
    done = errors = 0
    try:
        while time.monotonic() < deadline:
            started = time.perf_counter_ns()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = int(re.search(rb"(?i)content-length: (\d+)", head).group(1))  # type: ignore[union-attr]
            await reader.readexactly(length)
            hist.record_value(max(1, (time.perf_counter_ns() - started) // 1000))
            done += 1
            if not head.startswith(b"HTTP/1.1 2"):
                errors += 1
    finally:
        writer.close()
    return done, errors


async def _python(url: str, body: bytes, connections: int, seconds: float) -> LoadResult:
    parts = urlsplit(url)
    target = _Target(parts.hostname or "127.0.0.1", parts.port or 80, parts.path)
    request = (
        f"POST {target.path} HTTP/1.1\r\nHost: {target.host}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body
    hist = HdrHistogram(1, 60_000_000, 3)
    started = time.monotonic()
    counts = await asyncio.gather(
        *(_client(target, request, started + seconds, hist) for _ in range(connections))
    )
    elapsed = time.monotonic() - started
    total = sum(done for done, _ in counts)
    result = LoadResult(total / elapsed, total, sum(e for _, e in counts), elapsed, "python")
    for pct in (50, 90, 99, 99.9):
        key = f"p{str(pct).replace('.', '_')}"
        result.percentiles[key] = hist.get_value_at_percentile(pct) / 1000
    result.percentiles["max"] = hist.get_max_value() / 1000
    return result


def run_load(url: str, body: bytes, connections: int, seconds: float) -> LoadResult:
    """POST `body` to `url` over `connections` connections for `seconds` (with wrk unless it is
    missing or NATS_PUBSUB_LOAD_CLIENT=python)."""
    if shutil.which("wrk") and os.environ.get("NATS_PUBSUB_LOAD_CLIENT") != "python":
        return _wrk(url, body, connections, seconds)
    return asyncio.run(_python(url, body, connections, seconds))
