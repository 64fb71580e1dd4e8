"""Signals to a stop event, and running a service's main coroutine to a clean exit code."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import Awaitable, Callable

from nats_pubsub.logs.logger import Logger
from nats_pubsub.memory import release_startup_memory

__all__ = ["Pacer", "run_service", "time_left", "wait_for_end", "wait_or_stop"]

ServiceMain = Callable[[asyncio.Event], Awaitable[int]]


async def wait_or_stop(stop: asyncio.Event, seconds: float) -> bool:
    """Sleep up to `seconds`, returning True early if `stop` was set."""
    if stop.is_set():
        return True
    try:
        await asyncio.wait_for(stop.wait(), seconds)
    except TimeoutError:
        return False
    return True


def time_left(timeout: float | None, started: float) -> float | None:
    """What is left of `timeout` seconds counted from `started` (monotonic), at least 0."""
    return None if timeout is None else max(timeout - (time.monotonic() - started), 0.0)


async def wait_for_end(stop: asyncio.Event, reached: asyncio.Event, timeout: float | None) -> bool:
    """Wait for a stop request, a reached goal, or `timeout`; True when the timeout ended it."""
    waiters = [asyncio.create_task(stop.wait()), asyncio.create_task(reached.wait())]
    done, _ = await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    for task in waiters:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    return not done


class Pacer:
    """Paces a publishing loop: one message per `interval` seconds, or flat out at 0."""

    # Flat out, the loop still gives the event loop (flusher, signals, log writes) a turn
    # this often.
    YIELD_EVERY = 128

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self.started = time.monotonic()
        self.next_at = self.started
        self._sent = 0

    @property
    def clock(self) -> float:
        """Seconds since the start on the publishing schedule (real time when flat out)."""
        return (self.next_at if self.interval > 0 else time.monotonic()) - self.started

    async def wait(self, stop: asyncio.Event) -> None:
        """Wait for the next slot; a loop that fell behind resumes without bursting."""
        self._sent += 1
        if self.interval > 0:
            self.next_at += self.interval
            delay = self.next_at - time.monotonic()
            if delay < 0:  # fell behind (e.g. a slow reconnect): do not burst to catch up
                self.next_at, delay = time.monotonic(), 0.0
            await wait_or_stop(stop, delay)
        elif self._sent % self.YIELD_EVERY == 0:
            await asyncio.sleep(0)


async def _main(service: ServiceMain, log: Logger) -> int:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    received: list[int] = []

    def on_signal(signum: int) -> None:
        received.append(signum)
        if len(received) == 1:
            log.info("Shutdown requested", signal=signal.Signals(signum).name)
            stop.set()
        else:
            # A second signal means the user will not wait for a graceful drain.
            log.warning(
                "Second signal, exiting without draining", signal=signal.Signals(signum).name
            )
            log.flush()
            os._exit(130)

    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, on_signal, signum)
    try:
        return await service(stop)
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(Exception):
                loop.remove_signal_handler(signum)


def _new_loop() -> asyncio.AbstractEventLoop:
    try:
        import uvloop

        return uvloop.new_event_loop()
    except ImportError:
        return asyncio.new_event_loop()


def run_service(service: ServiceMain, log: Logger) -> int:
    """Run `service(stop)` until it returns; SIGINT/SIGTERM set `stop`; return its exit code."""
    release_startup_memory()
    with asyncio.Runner(loop_factory=_new_loop) as runner:
        try:
            return runner.run(_main(service, log))
        finally:
            log.flush()
