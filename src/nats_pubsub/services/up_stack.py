"""The stack's service processes under `nats-pubsub up`: consumers started first, producers once
every consumer has subscribed, each one's output pumped to the terminal line by line, and on the
way out producers stopped first (so the consumers still receive what was last sent)."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Callable
from typing import TYPE_CHECKING

import msgspec

from nats_pubsub.logs.logger import Logger
from nats_pubsub.services.child_output import Line, pump
from nats_pubsub.services.up_services import CONSUMERS, PRODUCERS, StackService, spawn_service

if TYPE_CHECKING:
    from pydantic import BaseModel

__all__ = ["Emit", "Stack"]

Emit = Callable[[str | None, bytes], None]  # (service name, or None for up's own; JSON line)
_SUBSCRIBED = b'"message":"Subscribed"'
_GATEWAY_STARTING = b'"message":"NATS HTTP Gateway starting"'
_READY_TIMEOUT = 60.0


class Stack:
    """The service processes `up` runs, by name, with the tasks that show their output."""

    def __init__(
        self, planned: dict[str, BaseModel], server_url: str | None, emit: Emit, log: Logger
    ) -> None:
        self._planned = planned  # each service's settings, checked before anything started
        self._server_url = server_url  # the server `up` started, if it did
        self._emit = emit
        self._log = log
        self.procs: dict[str, asyncio.subprocess.Process] = {}
        self.urls: dict[str, str] = {}  # where a service listens, by name (the gateway)
        self._started: dict[str, asyncio.Event] = {}
        self._pumps: list[asyncio.Task[None]] = []
        self._waits: dict[asyncio.Task[int], str] = {}

    async def _spawn(self, service: StackService) -> asyncio.Event:
        """Start `service`; the event is set once it has subscribed."""
        name, plan = service.name, self._planned[service.name]
        if self._server_url is not None:  # the services use the server `up` started
            plan = plan.model_copy(update={"nats_url": self._server_url})
        proc = await spawn_service(service, plan)
        self.procs[name] = proc
        assert proc.stdout is not None
        subscribed, self._started[name] = asyncio.Event(), asyncio.Event()
        started, emit, log, urls = self._started[name], self._emit, self._log, self.urls
        self._pumps.append(
            asyncio.create_task(_pump(name, proc.stdout, emit, started, subscribed, log, urls))
        )
        return subscribed

    async def start(self, stop: asyncio.Event) -> None:
        """The consumers (the gateway among them: its dashboard subscribes), then the producers
        once every consumer has subscribed (not when `stop` came first or a consumer exited; at
        most a minute of waiting)."""
        ready = [await self._spawn(service) for service in CONSUMERS]

        async def all_subscribed() -> None:
            for event in ready:
                await event.wait()

        starting = [
            asyncio.create_task(all_subscribed()),
            asyncio.create_task(stop.wait()),
            *(asyncio.create_task(proc.wait()) for proc in self.procs.values()),  # one failed
        ]
        await asyncio.wait(starting, timeout=_READY_TIMEOUT, return_when=asyncio.FIRST_COMPLETED)
        for pending in starting:
            pending.cancel()
        if not stop.is_set() and all(proc.returncode is None for proc in self.procs.values()):
            for service in PRODUCERS:
                await self._spawn(service)

    async def first_exit(self, stop: asyncio.Event) -> list[str]:
        """Wait for `stop` or a service's exit; the services that exited (none after `stop`)."""
        self._waits = {asyncio.create_task(p.wait()): n for n, p in self.procs.items()}
        stopper = asyncio.create_task(stop.wait())
        done, _ = await asyncio.wait([stopper, *self._waits], return_when=asyncio.FIRST_COMPLETED)
        stopper.cancel()
        return [self._waits[t] for t in done if t in self._waits]

    async def stop(self, drain_timeout: float) -> None:
        """Producers first, then consumers: SIGTERM, `drain_timeout` seconds to exit, then
        SIGKILL; returns once their output is shown to the end."""
        for group in (PRODUCERS, CONSUMERS):
            members = {svc.name: self.procs[svc.name] for svc in group if svc.name in self.procs}
            # A service still starting would die of the signal without a word: wait until it runs.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    asyncio.gather(*(self._started[name].wait() for name in members)),
                    drain_timeout,
                )
            for proc in members.values():
                if proc.returncode is None:
                    with contextlib.suppress(ProcessLookupError):
                        proc.send_signal(signal.SIGTERM)
            for name, proc in members.items():
                try:
                    await asyncio.wait_for(proc.wait(), drain_timeout)
                except TimeoutError:
                    self._log.warning("Service did not stop in time; killing it", service=name)
                    proc.kill()
                    await proc.wait()
        await asyncio.gather(*self._pumps, return_exceptions=True)
        for task in self._waits:
            task.cancel()


async def _pump(
    name: str,
    stream: asyncio.StreamReader,
    emit: Emit,
    started: asyncio.Event,
    subscribed: asyncio.Event,
    log: Logger,
    urls: dict[str, str],
) -> None:
    """Show a child's output; `started` once it writes (its service runs, its signal handlers
    are in place), `subscribed` once it has subscribed (a gateway: its dashboard; the URL it
    listens on goes into `urls`). Lines of any length are read (the child never blocks on its
    pipe); one over 1 MiB is replaced by a WARNING saying so."""

    def on_line(line: Line) -> None:
        if line.dropped:
            log.warning(
                "Service output line too long, cut",
                service=name,
                size_bytes=len(line.data) - 1 + line.dropped,
                preview=line.data[:200].decode("utf-8", "backslashreplace"),
            )
            return
        if not subscribed.is_set() and _SUBSCRIBED in line.data:
            subscribed.set()
        if _GATEWAY_STARTING in line.data:
            with contextlib.suppress(msgspec.DecodeError, AttributeError):
                urls[name] = str(msgspec.json.decode(line.data).get("url"))
        emit(name, line.data)

    await pump(stream, on_line, started)
