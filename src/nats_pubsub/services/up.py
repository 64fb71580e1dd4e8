"""`nats-pubsub up`: the whole local stack (server, publishers, subscribers) in one terminal."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from collections.abc import Callable
from typing import IO, Any
from urllib.parse import urlsplit

import msgspec

from nats_pubsub.config import UpSettings, mask_url
from nats_pubsub.logs.logger import Logger, LogSink
from nats_pubsub.server.embedded import EmbeddedServer
from nats_pubsub.services.nats_server import server_line_logger
from nats_pubsub.services.up_services import CONSUMERS, PRODUCERS, service_settings
from nats_pubsub.services.up_stack import Emit, Stack

__all__ = ["STACK", "copying_logger", "make_emitter", "run_up"]

STACK = CONSUMERS + PRODUCERS
_LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "0.0.0.0"})
_PREFIX_COLORS = ("\x1b[36m", "\x1b[35m", "\x1b[34m", "\x1b[33m")


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


def _say_running(log: Logger, stack: Stack, planned: dict[str, Any], console: bool) -> None:
    """`Stack running`, with where the gateway and its dashboard are; on a terminal the
    dashboard's address on a line of its own."""
    gateway_url = stack.urls.get("gateway")
    dashboard = getattr(planned.get("gateway"), "gateway_dashboard", "off") != "off"
    dashboard_url = f"{gateway_url}/" if gateway_url and dashboard else None
    log.info(
        "Stack running; press Ctrl+C to stop",
        services=list(stack.procs),
        gateway_url=gateway_url,
        dashboard_url=dashboard_url,
    )
    if console and dashboard_url:
        log.flush()
        with contextlib.suppress(OSError, ValueError):
            print(f"Dashboard: {dashboard_url}", flush=True)


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
    stack = Stack(planned, server.url if server else None, make_emitter(log, console, copy), log)
    await stack.start(stop)
    _say_running(log, stack, planned, console)
    failed = await stack.first_exit(stop)
    if failed:
        log.error(
            "A service exited unexpectedly; stopping the stack",
            service=failed[0],
            exit_code=stack.procs[failed[0]].returncode,
        )
    await stack.stop(settings.drain_timeout)
    if server is not None:
        await asyncio.to_thread(server.stop)
        log.info("Embedded NATS server stopped")
    log.info("Stack stopped")
    return 1 if failed else 0
