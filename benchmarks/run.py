"""`make bench`: our services' hot paths vs bare nats-py, side by side on one server, as ratios.

Each measurement runs in a fresh process; modes alternate and repeat, and the median is kept,
so both sides see the same machine load. Prints a Markdown table for docs/performance.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

import nats

from nats_pubsub.embedded import EmbeddedServer

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
from workers import prebuilt_payload  # noqa: E402 - benchmarks/ is not a package


def _worker(mode: str, url: str, subject: str, n: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(HERE / "workers.py"), mode, url, subject, str(n)],
        stdout=subprocess.PIPE,
        text=True,
    )


async def _flood(url: str, subject: str, n: int) -> None:
    payload = prebuilt_payload()
    nc = await nats.connect(url)
    for _ in range(n):
        await nc.publish(subject, payload)
    await nc.flush()
    await nc.flush()
    await nc.close()


def measure_sub(mode: str, url: str, n: int) -> float:
    """Receive rate of a subscriber worker while this process publishes `n` messages flat out."""
    subject = f"bench.{uuid.uuid4().hex[:8]}"
    proc = _worker(mode, url, subject, n)
    assert proc.stdout is not None
    if proc.stdout.readline().strip() != "ready":
        raise RuntimeError(f"{mode} worker did not start")
    asyncio.run(_flood(url, subject, n))
    result = json.loads(proc.stdout.readline())
    proc.wait(60)
    return float(result["rate"])


def measure_pub(mode: str, url: str, n: int, subject: str | None = None) -> float:
    """Rate reported by a worker that runs on its own (publishers, replay)."""
    proc = _worker(mode, url, subject or f"bench.{uuid.uuid4().hex[:8]}", n)
    out, _ = proc.communicate(timeout=300)
    return float(json.loads(out.strip().splitlines()[-1])["rate"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--msgs", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--js-msgs", type=int, default=5_000, help="for one-ack-at-a-time")
    parser.add_argument("--replay-msgs", type=int, default=100_000)
    args = parser.parse_args()
    rates: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as store, EmbeddedServer(store_dir=Path(store)) as server:
        for _ in range(args.rounds):
            for mode in ("sub-bare", "sub-full"):
                rates.setdefault(mode, []).append(measure_sub(mode, server.url, args.msgs))
            for mode in ("pub-bare", "pub-full"):
                rates.setdefault(mode, []).append(measure_pub(mode, server.url, args.msgs))
        for _ in range(args.rounds):
            for mode in ("js-pub-window", "js-pub-sync"):  # the windowed run creates EVENTS
                n = args.js_msgs if mode == "js-pub-sync" else args.js_msgs * 10
                rates.setdefault(mode, []).append(
                    measure_pub(mode, server.url, n, subject=f"events.bench.{uuid.uuid4().hex[:6]}")
                )
    with tempfile.TemporaryDirectory() as store, EmbeddedServer(store_dir=Path(store)) as server:
        # A fresh server whose EVENTS stream holds exactly the replayed messages.
        measure_pub("js-pub-window", server.url, args.replay_msgs, subject="events.replay")
        for _ in range(args.rounds):
            rates.setdefault("js-replay", []).append(
                measure_pub("js-replay", server.url, args.replay_msgs, subject="-")
            )
    med = {mode: statistics.median(values) for mode, values in rates.items()}
    rows = [
        ("subscriber: full processing vs bare nats-py (count only)", "sub-full", "sub-bare", 0.5),
        (
            "publisher: full processing vs bare nats-py (prebuilt payload)",
            "pub-full",
            "pub-bare",
            0.5,
        ),
    ]
    print(f"\n{args.msgs} messages per run, median of {args.rounds} rounds, same server\n")
    print("| what | ours (msg/s) | bare nats-py (msg/s) | ratio | aim |")
    print("| --- | ---: | ---: | ---: | ---: |")
    rows.append(
        (
            "JetStream publish: window of 256 vs one awaited ack at a time",
            "js-pub-window",
            "js-pub-sync",
            15,
        )
    )
    for label, ours, bare, aim in rows:
        ratio = med[ours] / med[bare]
        print(f"| {label} | {med[ours]:,.0f} | {med[bare]:,.0f} | {ratio:.2f} | >= {aim} |")
    print(
        f"\nJetStream replay of a {args.replay_msgs:,}-message stream: "
        f"{med['js-replay']:,.0f} msg/s (aim >= 50,000)"
    )


if __name__ == "__main__":
    main()
