"""Publisher workers: our publisher service, bare nats-py, classic; JetStream publish and replay.

`ours` runs `services.publisher.run_publisher` itself (interval 0, or 1/`rate` for an open-loop
rate), logging every record for real to /dev/null; with JetStream that is our `Outbox` with its
bounded ack window (`fast`: the same with --fast-ingest). `bare` publishes prebuilt payloads with
nats-py, and for JetStream awaits each `js.publish` in turn; `async` is nats-py's own
`publish_async` with the same window.
Replay runs `services.replay.run_replay` to /dev/null.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from pathlib import Path
from typing import Any

import nats

from nats_pubsub.bench.classic import ClassicPublisher, classic_logger
from nats_pubsub.bench.payloads import PaddedEventFactory, natural_size, prebuilt_payloads
from nats_pubsub.bench.protocol import WorkerSpec, devnull_logger, report_progress
from nats_pubsub.config import PublisherSettings, ReplaySettings
from nats_pubsub.services.publisher import run_publisher
from nats_pubsub.services.replay import run_replay

__all__ = ["run_publisher_worker"]

_DISTINCT = 100_000  # prebuilt payloads are reused beyond this many
_YIELD_EVERY = 128  # as our Pacer: a flat-out loop gives the event loop a turn this often
JS_WINDOW = 256  # publishes in flight for nats-py's publish_async: our default --js-window


def _result(messages: int, seconds: float, **more: Any) -> dict[str, Any]:
    return {"messages": messages, "seconds": seconds, "rate": messages / seconds, **more}


async def _with_progress(spec: WorkerSpec, done: Any, work: Any) -> Any:
    reporter = asyncio.create_task(report_progress(done)) if spec.progress else None
    try:
        return await work
    finally:
        if reporter is not None:
            reporter.cancel()


async def _ours(spec: WorkerSpec) -> dict[str, Any]:
    jetstream = spec.role in ("js-pub", "js-fill")
    settings = PublisherSettings(
        nats_url=spec.url,
        nats_subject=spec.subject,
        hostname=f"bench-pub-{spec.index}",
        count=spec.msgs,
        publish_interval=1 / spec.rate if spec.rate > 0 else 0,
        jetstream=jetstream,
        js_fast_ingest=spec.mode == "fast",
        stream_name=spec.stream or None,
    )
    # Our publisher's events, padded to `--size`: padding changes no per-message work.
    events = PaddedEventFactory(settings.hostname, settings.event_types, size=spec.size)
    log, sink = devnull_logger("nats-publisher")
    started = time.perf_counter()
    code = await _with_progress(
        spec, lambda: sink.lines, run_publisher(settings, log, asyncio.Event(), events=events)
    )
    seconds = time.perf_counter() - started
    log.flush()
    final = sink.last_record("Publisher metrics") or {}
    sent = int(final.get("total_messages", spec.msgs if code == 0 else 0))
    return _result(sent, seconds, exit_code=code)


async def _bare(spec: WorkerSpec) -> dict[str, Any]:
    payloads = prebuilt_payloads(min(spec.msgs, _DISTINCT), spec.size or natural_size())
    distinct = len(payloads)
    sent = 0
    nc = await nats.connect(spec.url, name="bench-pub")
    started = time.perf_counter()

    async def flat_out() -> None:
        nonlocal sent
        publish = nc.publish
        subject = spec.subject
        for i in range(spec.msgs):
            await publish(subject, payloads[i % distinct])
            sent += 1
        await nc.flush()

    await _with_progress(spec, lambda: sent, flat_out())
    await nc.close()
    return _result(sent, time.perf_counter() - started)


async def _classic(spec: WorkerSpec) -> dict[str, Any]:
    logger = classic_logger("publisher")
    pad = " " + "x" * max(0, (spec.size or 0) - natural_size() - 1) if spec.size else ""
    build = ClassicPublisher(f"classic-pub-{spec.index}", logger, pad)
    nc = await nats.connect(spec.url, name="bench-pub")
    started = time.perf_counter()

    async def flat_out() -> None:
        for i in range(spec.msgs):
            payload = build.next_payload()
            await nc.publish(spec.subject, payload)
            build.published(spec.subject, payload)
            if i % _YIELD_EVERY == 0:
                await asyncio.sleep(0)
        await nc.flush()

    await _with_progress(spec, lambda: build.sequence, flat_out())
    await nc.close()
    return _result(build.sequence, time.perf_counter() - started)


async def _js_nats_py(spec: WorkerSpec) -> dict[str, Any]:
    """nats-py's JetStream publishing: each `js.publish` awaited in turn (`bare`), or its own
    windowed `publish_async` with our default window (`async`), as references."""
    payloads = prebuilt_payloads(min(spec.msgs, _DISTINCT), spec.size or natural_size())
    windowed = spec.mode == "async"
    nc = await nats.connect(spec.url, name="bench-js-pub-async" if windowed else "bench-js-pub")
    js = nc.jetstream(publish_async_max_pending=JS_WINDOW)
    publish = js.publish_async if windowed else js.publish
    run = uuid.uuid4().hex[:8]
    sent = 0
    started = time.perf_counter()

    async def publish_all() -> None:
        nonlocal sent
        for i in range(spec.msgs):
            payload = payloads[i % len(payloads)]
            await publish(spec.subject, payload, headers={"Nats-Msg-Id": f"{run}-{i}"})
            sent += 1
        if windowed:
            await js.publish_async_completed()

    await _with_progress(spec, lambda: sent, publish_all())
    seconds = time.perf_counter() - started
    await nc.close()
    return _result(sent, seconds)


async def _replay_ours(spec: WorkerSpec) -> dict[str, Any]:
    settings = ReplaySettings(nats_url=spec.url, stream_name=spec.stream, output=Path(os.devnull))
    log, sink = devnull_logger("nats-replay")
    started = time.perf_counter()
    code = await run_replay(settings, log, asyncio.Event())
    seconds = time.perf_counter() - started
    log.flush()
    summary = sink.last_record("Replay finished") or {}
    return _result(int(summary.get("count", 0)), seconds, exit_code=code)


async def _replay_bare(spec: WorkerSpec) -> dict[str, Any]:
    nc = await nats.connect(spec.url, name="bench-replay")
    js = nc.jetstream()
    done = asyncio.Event()
    count = 0
    started = time.perf_counter()

    async def cb(msg: Any) -> None:
        nonlocal count
        count += 1
        if count >= spec.msgs:
            done.set()

    sub = await js.subscribe(spec.subject, stream=spec.stream, ordered_consumer=True, cb=cb)
    await _with_progress(spec, lambda: count, asyncio.wait_for(done.wait(), 600))
    seconds = time.perf_counter() - started
    await sub.unsubscribe()
    await nc.close()
    return _result(count, seconds)


async def run_publisher_worker(spec: WorkerSpec) -> dict[str, Any]:
    """Run one publishing (or replaying) worker to the end; its result."""
    if spec.role == "js-replay":
        return await (_replay_ours(spec) if spec.mode == "ours" else _replay_bare(spec))
    if spec.mode in ("ours", "fast"):
        return await _ours(spec)
    if spec.role == "js-pub":
        return await _js_nats_py(spec)
    return await (_classic(spec) if spec.mode == "classic" else _bare(spec))
