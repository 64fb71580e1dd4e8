"""Signals to a stop event, and running a service's main coroutine to a clean exit code."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import Awaitable, Callable

from nats_pubsub.logs import Logger

__all__ = ["run_service", "wait_or_stop"]

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
    with asyncio.Runner(loop_factory=_new_loop) as runner:
        try:
            return runner.run(_main(service, log))
        finally:
            log.flush()
