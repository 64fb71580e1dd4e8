"""`nats-pubsub up`: the whole local stack (server, publishers, subscribers) in one terminal."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import Callable
from typing import IO
from urllib.parse import urlsplit

import msgspec

from nats_pubsub.config import UpSettings, mask_url
from nats_pubsub.logs.logger import Logger, LogSink
from nats_pubsub.server.embedded import EmbeddedServer
from nats_pubsub.services.child_output import Line, pump
from nats_pubsub.services.nats_server import server_line_logger
from nats_pubsub.services.up_services import (
    CONSUMERS,
    PRODUCERS,
    StackService,
    service_settings,
    spawn_service,
)

__all__ = ["STACK", "copying_logger", "make_emitter", "run_up"]

STACK = CONSUMERS + PRODUCERS
_SUBSCRIBED = b'"message":"Subscribed"'
_GATEWAY_STARTING = b'"message":"NATS HTTP Gateway starting"'
_GATEWAY_WAIT = 10.0
_READY_TIMEOUT = 60.0
_LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "0.0.0.0"})
_PREFIX_COLORS = ("\x1b[36m", "\x1b[35m", "\x1b[34m", "\x1b[33m")

Emit = Callable[[str | None, bytes], None]  # (service name, or None for up's own; JSON line)


async def _is_listening(host: str, port: int) -> bool:
    """True when a NATS server answers on host:port (it greets with an INFO line)."""
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), 2.0)
    except (OSError, TimeoutError):
        return False
    try:
        greeting = await asyncio.wait_for(reader.readline(), 2.0)
    except (OSError, TimeoutError):
        greeting = b""
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return greeting.startswith(b"INFO ")


def _call_in_loop(
    loop: asyncio.AbstractEventLoop, func: Callable[[str, str], None], level: str, text: str
) -> None:
    """Run `func` in the event loop's thread (server output arrives on a reader thread)."""
    loop.call_soon_threadsafe(func, level, text)


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
    are in place), `subscribed` once it has subscribed (a gateway: once it listens, its URL into
    `urls`). Lines of any length are read (the child never blocks on its pipe); one over 1 MiB
    is replaced by a WARNING saying so."""

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
            subscribed.set()
        emit(name, line.data)

    await pump(stream, on_line, started)


def make_emitter(log: Logger | None, console: bool, copy: IO[bytes] | None = None) -> Emit:
    """How output reaches the terminal: JSON passed through, or readable console lines; with
    `copy` (LOG_FILE) every JSON line is also appended there, and keeps being appended when the
    terminal's pipe is gone (`make run | tee` after Ctrl+C)."""
    from nats_pubsub.logs.console import printable, render_console, terminal_width

    decoder = msgspec.json.Decoder()
    colors: dict[str, str] = {}
    out: IO[bytes] | None = sys.stdout.buffer
    color = console and sys.stdout.isatty()
    columns = terminal_width() if console else None
    width = None if columns is None else columns - len(f"{'':<10} │ ")  # less the name tag

    def emit(name: str | None, line: bytes) -> None:
        nonlocal out
        if copy is not None:
            copy.write(line if line.endswith(b"\n") else line + b"\n")
            copy.flush()
        if not console:
            text = line
        else:
            try:
                record = decoder.decode(line)
            except msgspec.DecodeError:
                record = None
            tag = "" if name is None else f"{name:<10} │ "
            if color and name is not None:
                hue = colors.setdefault(name, _PREFIX_COLORS[len(colors) % len(_PREFIX_COLORS)])
                tag = f"{hue}{tag}\x1b[0m"
            if isinstance(record, dict):
                cut = None if width is None or name is None else width
                line_text = render_console(record, color=color, prefix=tag, width=cut)
                text = (line_text + "\n").encode()
            else:  # not a record: shown as text, escaped like every console value
                shown = printable(line.decode("utf-8", "backslashreplace").rstrip("\n"))
                text = f"{tag}{shown}\n".encode()
        if log is not None:
            log.flush()
        if out is None:
            return
        try:
            out.write(text)
            out.flush()
        except (BrokenPipeError, ValueError):
            # The reader is gone (a `tee` killed by Ctrl+C): the stack still stops in order,
            # writing to the LOG_FILE copy; stdout goes nowhere, so exiting raises nothing.
            out = None
            with contextlib.suppress(OSError):
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, sys.stdout.fileno())
                os.close(devnull)

    return emit


class _OwnLines:
    """The stream under up's own logger when it has a LOG_FILE: each JSON line goes out through
    the emitter, like the services' lines (to the file, and to the terminal as it shows them)."""

    def __init__(self, emit: Emit) -> None:
        self._emit = emit

    def write(self, data: bytes) -> int:
        for line in data.splitlines(keepends=True):
            self._emit(None, line)
        return len(data)

    def flush(self) -> None:
        """Nothing is held here."""


def copying_logger(name: str, level: str, console: bool, copy: IO[bytes]) -> Logger:
    """up's own logger when LOG_FILE is set: JSON records through an emitter copying to it."""
    lines = _OwnLines(make_emitter(None, console, copy))
    return Logger(name, LogSink(lines), level=level)  # type: ignore[arg-type]  # write+flush


async def run_up(
    settings: UpSettings,
    log: Logger,
    stop: asyncio.Event,
    console: bool,
    copy: IO[bytes] | None = None,
) -> int:
    """Start (or reuse) a server, then the services; on stop, drain them and stop the server.

    Raises ConfigError, before anything starts, when a service's settings are invalid."""
    loop = asyncio.get_running_loop()
    # Each service's settings, checked now; they reach it through a pipe (up_services.py).
    planned = {svc.name: service_settings(svc, settings, settings.nats_url) for svc in STACK}
    url = settings.servers[0]
    parts = urlsplit(url)
    host, port = parts.hostname or "localhost", parts.port or 4222
    server: EmbeddedServer | None = None
    if await _is_listening(host, port):
        log.info("Using the NATS server already running", url=mask_url(url))
    elif host in _LOCAL_HOSTS:
        forward = server_line_logger(log.child("nats-server"))
        server = EmbeddedServer(
            host="127.0.0.1",
            port=port,
            http_port=settings.http_port or None,
            store_dir=settings.store_dir.resolve(),
            on_line=lambda level, text: _call_in_loop(loop, forward, level, text),
        )
        await asyncio.to_thread(server.start)
        log.info("Embedded NATS server started", url=server.url, monitor_url=server.monitor_url)
    else:
        log.warning("NATS server not reachable yet; services will keep retrying", url=mask_url(url))

    emit = make_emitter(log, console, copy)
    children: dict[str, asyncio.subprocess.Process] = {}
    started: dict[str, asyncio.Event] = {}
    listening: dict[str, asyncio.Event] = {}
    urls: dict[str, str] = {}
    pumps = []

    async def spawn(service: StackService) -> asyncio.Event:
        name, plan = service.name, planned[service.name]
        if server is not None:  # the services use the server `up` started
            plan = plan.model_copy(update={"nats_url": server.url})
        proc = await spawn_service(service, plan)
        children[name] = proc
        assert proc.stdout is not None
        subscribed, started[name] = asyncio.Event(), asyncio.Event()
        listening[name] = subscribed
        pumps.append(
            asyncio.create_task(
                _pump(name, proc.stdout, emit, started[name], subscribed, log, urls)
            )
        )
        return subscribed

    ready = [await spawn(service) for service in CONSUMERS]

    async def all_subscribed() -> None:
        for event in ready:
            await event.wait()

    starting = [
        asyncio.create_task(all_subscribed()),
        asyncio.create_task(stop.wait()),
        *(asyncio.create_task(proc.wait()) for proc in children.values()),  # a consumer failed
    ]
    await asyncio.wait(starting, timeout=_READY_TIMEOUT, return_when=asyncio.FIRST_COMPLETED)
    for pending in starting:
        pending.cancel()
    if not stop.is_set() and all(proc.returncode is None for proc in children.values()):
        for service in PRODUCERS:
            await spawn(service)
        if "gateway" in listening:  # it says where it listens within a moment of starting
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(listening["gateway"].wait(), _GATEWAY_WAIT)
    log.info(
        "Stack running; press Ctrl+C to stop",
        services=list(children),
        gateway_url=urls.get("gateway"),
    )

    waits = {asyncio.create_task(p.wait()): n for n, p in children.items()}
    stopper = asyncio.create_task(stop.wait())
    done, _ = await asyncio.wait([stopper, *waits], return_when=asyncio.FIRST_COMPLETED)
    failed = [waits[t] for t in done if t in waits]
    if failed:
        log.error(
            "A service exited unexpectedly; stopping the stack",
            service=failed[0],
            exit_code=children[failed[0]].returncode,
        )
    stopper.cancel()
    # Producers first, so the consumers still receive what was last sent; then the consumers.
    for group in (PRODUCERS, CONSUMERS):
        members = {svc.name: children[svc.name] for svc in group if svc.name in children}
        # A service still starting would die of the signal without a word: wait until it runs.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(
                asyncio.gather(*(started[name].wait() for name in members)),
                settings.drain_timeout,
            )
        for proc in members.values():
            if proc.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    proc.send_signal(signal.SIGTERM)
        for name, proc in members.items():
            try:
                await asyncio.wait_for(proc.wait(), settings.drain_timeout)
            except TimeoutError:
                log.warning("Service did not stop in time; killing it", service=name)
                proc.kill()
                await proc.wait()
    await asyncio.gather(*pumps, return_exceptions=True)
    for task in waits:
        task.cancel()
    if server is not None:
        await asyncio.to_thread(server.stop)
        log.info("Embedded NATS server stopped")
    log.info("Stack stopped")
    return 1 if failed else 0
