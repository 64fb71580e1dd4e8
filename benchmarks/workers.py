"""Benchmark workers, each run in its own process: bare nats-py vs our services' code paths.

Usage: python benchmarks/workers.py {sub-bare|sub-full|pub-bare|pub-full} URL SUBJECT N
Subscribers print "ready" once subscribed, then one JSON line with the receive rate.
Publishers print one JSON line with the publish rate.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from pathlib import Path

import nats

from nats_pubsub.config import PublisherSettings, ReplaySettings, SubscriberSettings
from nats_pubsub.connection import Delivery, connect
from nats_pubsub.logs import Logger, LogSink
from nats_pubsub.schema import EventFactory, encode
from nats_pubsub.services.publisher import run_publisher
from nats_pubsub.services.replay import run_replay
from nats_pubsub.services.subscriber import make_handler
from nats_pubsub.stats import ReceiveStats
from nats_pubsub.timeutil import now_timestamp


def _report(n: int, elapsed: float) -> None:
    print(json.dumps({"messages": n, "seconds": elapsed, "rate": n / elapsed}), flush=True)


def _devnull_logger(name: str) -> Logger:
    # Real log lines, really written: to /dev/null, so the terminal's speed is not measured.
    return Logger(name, LogSink(open(os.devnull, "wb")))


def prebuilt_payload() -> bytes:
    """A valid ~250-byte event, as our publisher sends."""
    return encode(EventFactory("bench", ("user.login",)).next(now_timestamp()))


async def sub_bare(url: str, subject: str, n: int) -> None:
    nc = await nats.connect(url, pending_size=64 * 1024 * 1024)
    done = asyncio.Event()
    state = {"count": 0, "t0": 0.0}

    async def cb(msg: object) -> None:
        if state["count"] == 0:
            state["t0"] = time.perf_counter()
        state["count"] += 1
        if state["count"] == n:
            done.set()

    await nc.subscribe(subject, cb=cb)
    await nc.flush()
    print("ready", flush=True)
    await done.wait()
    _report(n, time.perf_counter() - state["t0"])
    await nc.close()


async def sub_full(url: str, subject: str, n: int) -> None:
    settings = SubscriberSettings(nats_url=url, nats_subject=subject, count=n)
    log = _devnull_logger("nats-subscriber")
    conn = await connect(settings, name="bench-sub", log=log)
    reached = asyncio.Event()
    handler = make_handler(settings, log, ReceiveStats(), reached)
    t0 = [0.0]

    async def timed(msg: Delivery) -> None:
        if not t0[0]:
            t0[0] = time.perf_counter()
        await handler(msg)

    await conn.subscribe(subject, timed)
    await conn.flush()
    print("ready", flush=True)
    await reached.wait()
    _report(n, time.perf_counter() - t0[0])
    await conn.close()


async def pub_bare(url: str, subject: str, n: int) -> None:
    payload = prebuilt_payload()
    t0 = time.perf_counter()
    nc = await nats.connect(url)
    for _ in range(n):
        await nc.publish(subject, payload)
    await nc.flush()
    await nc.flush()
    await nc.close()
    _report(n, time.perf_counter() - t0)


async def pub_full(url: str, subject: str, n: int) -> None:
    settings = PublisherSettings(nats_url=url, nats_subject=subject, count=n, publish_interval=0)
    log = _devnull_logger("nats-publisher")
    t0 = time.perf_counter()
    await run_publisher(settings, log, asyncio.Event())
    _report(n, time.perf_counter() - t0)


async def js_pub_sync(url: str, subject: str, n: int) -> None:
    """JetStream publishing the simple way: await each ack before the next publish."""
    payload = prebuilt_payload()
    nc = await nats.connect(url)
    js = nc.jetstream()
    t0 = time.perf_counter()
    for i in range(n):
        await js.publish(subject, payload, headers={"Nats-Msg-Id": f"sync-{i}"})
    _report(n, time.perf_counter() - t0)
    await nc.close()


async def js_pub_window(url: str, subject: str, n: int) -> None:
    """Our publisher with --jetstream: a bounded window of publishes awaiting acks."""
    settings = PublisherSettings(
        nats_url=url, nats_subject=subject, count=n, publish_interval=0, jetstream=True
    )
    log = _devnull_logger("nats-publisher")
    t0 = time.perf_counter()
    await run_publisher(settings, log, asyncio.Event())
    _report(n, time.perf_counter() - t0)


async def js_replay(url: str, subject: str, n: int) -> None:
    """Our replay command reading the EVENTS stream's whole history to /dev/null."""
    settings = ReplaySettings(nats_url=url, stream_name="EVENTS", output=Path(os.devnull))
    log = _devnull_logger("nats-replay")
    t0 = time.perf_counter()
    await run_replay(settings, log, asyncio.Event())
    _report(n, time.perf_counter() - t0)


WORKERS = {
    "sub-bare": sub_bare,
    "sub-full": sub_full,
    "pub-bare": pub_bare,
    "pub-full": pub_full,
    "js-pub-sync": js_pub_sync,
    "js-pub-window": js_pub_window,
    "js-replay": js_replay,
}

if __name__ == "__main__":
    mode, url, subject, count = sys.argv[1:5]
    asyncio.run(WORKERS[mode](url, subject, int(count)))
