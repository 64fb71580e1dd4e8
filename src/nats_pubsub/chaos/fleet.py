"""The chaos run's services as separate `nats-pubsub` processes: started, killed -9 and started
again, each process's records kept in its own file, and the few facts the run waits on."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from nats_pubsub.chaos.workload import Role, ServiceSpec, service_env
from nats_pubsub.services.child_output import Line, pump

__all__ = ["Fleet", "Incarnation"]

_READY_TEXTS = (b'"Subscribed"', b'"Publisher started"', b'"Payment publisher started"')
_STOP_WAIT = 30.0  # seconds a service has to drain after SIGTERM before it is killed


class Incarnation:
    """One process of a service: where its records go, how it ended."""

    def __init__(self, spec: ServiceSpec, number: int, log_path: Path) -> None:
        self.spec = spec
        self.number = number
        self.log_path = log_path
        self.started = time.time()
        self.process: asyncio.subprocess.Process | None = None
        self.killed = False  # by the schedule (or the end of the run)
        self.stopping = False  # asked to stop (SIGTERM) at the end of the run
        self.ready = asyncio.Event()
        self.exited = asyncio.Event()
        self.exit_code: int | None = None

    @property
    def running(self) -> bool:
        """True while the process runs."""
        return self.process is not None and self.process.returncode is None


class Fleet:
    """Every service of the workload; `processed` and `core_last` follow their progress."""

    def __init__(
        self,
        specs: tuple[ServiceSpec, ...],
        logs: Path,
        on_exit: Callable[[Incarnation], None],
    ) -> None:
        self.specs = {spec.name: spec for spec in specs}
        self.history: dict[str, list[Incarnation]] = {spec.name: [] for spec in specs}
        self._env: dict[str, str] = {}
        self._logs = logs
        self._on_exit = on_exit
        self._tasks: set[asyncio.Task[None]] = set()
        self.processed: dict[str, set[int]] = {}  # stream -> sequences some consumer processed
        self.core_last = {Role.CORE_PUBLISHER: 0, Role.CORE_SUBSCRIBER: 0}  # highest sequence
        self.changed = asyncio.Event()

    def connect_to(self, url: str) -> None:
        """The cluster's URL, which every service started from now on is given."""
        self._env = service_env(dict(os.environ), url)

    def current(self, name: str) -> Incarnation | None:
        """The service's latest process, if it has one."""
        history = self.history[name]
        return history[-1] if history else None

    async def start(self, name: str, timeout: float = 60.0) -> Incarnation:
        """Start a new process of `name`; returns once it says it is subscribed or started."""
        spec = self.specs[name]
        number = len(self.history[name]) + 1
        inc = Incarnation(spec, number, self._logs / f"{name}.{number}.jsonl")
        self.history[name].append(inc)
        out = inc.log_path.open("wb")
        err = (self._logs / f"{name}.{number}.stderr").open("wb")
        inc.process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "nats_pubsub",
            *spec.args,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=err,
            env=self._env,
            start_new_session=True,
        )
        err.close()
        task = asyncio.create_task(self._follow(inc, out))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(_first(inc.ready, inc.exited), timeout)
        return inc

    async def _follow(self, inc: Incarnation, out: IO[bytes]) -> None:
        process = inc.process
        assert process is not None
        assert process.stdout is not None
        watch = self._watcher(inc)

        def on_line(line: Line) -> None:
            out.write(line.data)
            watch(line.data)

        try:
            await pump(process.stdout, on_line, asyncio.Event())
        finally:
            out.close()
        inc.exit_code = await process.wait()
        inc.exited.set()
        self.changed.set()
        self._on_exit(inc)

    def _watcher(self, inc: Incarnation) -> Callable[[bytes], None]:
        """What to note of each line: readiness, and sequences processed or sent."""
        role = inc.spec.role
        processed = self.processed.setdefault(inc.spec.stream, set())
        consumer = role in (Role.SUBSCRIBER, Role.MONITOR)
        core = role in (Role.CORE_PUBLISHER, Role.CORE_SUBSCRIBER)
        core_text = b'"Message published"' if role is Role.CORE_PUBLISHER else b'"Message received"'

        def watch(data: bytes) -> None:
            if not inc.ready.is_set() and any(text in data for text in _READY_TEXTS):
                inc.ready.set()
            if consumer and b'"js_sequence"' in data:
                seq = _field(data, "js_sequence")
                if isinstance(seq, int):
                    processed.add(seq)
                    self.changed.set()
            elif core and core_text in data:
                seq = _field(data, "sequence")
                if isinstance(seq, int):
                    self.core_last[role] = max(self.core_last[role], seq)
                    self.changed.set()

        return watch

    def kill(self, name: str) -> Incarnation | None:
        """kill -9 the service's running process (the schedule's doing)."""
        inc = self.current(name)
        if inc is None or not inc.running:
            return None
        inc.killed = True
        assert inc.process is not None
        with contextlib.suppress(ProcessLookupError):
            inc.process.send_signal(signal.SIGKILL)
        return inc

    async def stop(self, name: str) -> int | None:
        """SIGTERM the service's process and wait for it to drain and exit (killed if it hangs)."""
        inc = self.current(name)
        if inc is None or inc.process is None:
            return None
        inc.stopping = True
        if inc.running:
            with contextlib.suppress(ProcessLookupError):
                inc.process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(inc.exited.wait(), _STOP_WAIT)
        except TimeoutError:
            inc.killed = True
            with contextlib.suppress(ProcessLookupError):
                inc.process.kill()
            await inc.exited.wait()
        return inc.exit_code

    async def wait_until(self, done: Callable[[], bool], timeout: float) -> bool:
        """Wait until `done()` (checked each time a service makes progress); False at timeout."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not done():
            left = deadline - loop.time()
            if left <= 0:
                return False
            self.changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.changed.wait(), min(left, 1.0))
        return True

    async def close(self) -> None:
        """Kill whatever still runs and wait for every output to be written."""
        for history in self.history.values():
            for inc in history:
                if inc.running and inc.process is not None:
                    inc.killed = True
                    with contextlib.suppress(ProcessLookupError):
                        inc.process.kill()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)


def _field(data: bytes, name: str) -> Any:
    try:
        record = json.loads(data)
    except ValueError:
        return None
    return record.get(name) if isinstance(record, dict) else None


async def _first(*events: asyncio.Event) -> None:
    """Return when any of `events` is set."""
    waiters = [asyncio.ensure_future(event.wait()) for event in events]
    try:
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
