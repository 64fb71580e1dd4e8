"""Resident memory of an idle, connected service: a real `nats-pubsub subscribe` process."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

from nats_pubsub.testing import ServiceProcess, service_env

__all__ = ["idle_rss_kib", "read_rss_kib"]


def read_rss_kib(pid: int) -> int:
    """VmRSS of a process, in KiB, from /proc/<pid>/status (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for process {pid}")


def idle_rss_kib(
    url: str, settle_seconds: float = 1.0, timeout: float = 60.0, service: str = "subscribe"
) -> int:
    """Start `nats-pubsub subscribe` (or `gateway`), wait until it is subscribed (connected) and
    idle, read its RSS."""
    if service == "gateway":
        args, ready = ["gateway", "--port", "0"], "NATS Gateway connected"
    else:
        args, ready = (
            ["subscribe", "--subject", f"bench.idle.{uuid.uuid4().hex[:10]}"],
            "Subscribed",
        )
    proc = ServiceProcess(args, service_env(url))
    try:
        proc.logs.wait_for(ready, timeout=timeout)
        time.sleep(settle_seconds)
        return read_rss_kib(proc.process.pid)
    finally:
        proc.stop()
