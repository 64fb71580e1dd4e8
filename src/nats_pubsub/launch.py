"""Run a long-lived service in a lean process: same PID, settings validated by the CLI.

The CLI imports click and builds settings with pydantic (tens of MiB that a service never needs
again). `start` hands the validated settings to a fresh interpreter through an inherited pipe
(never argv or the environment: they hold secrets) and replaces the CLI with it by exec, so the
PID, stdio and signals stay those of the command that was started. The new process
(`python -P -m nats_pubsub.launch COMMAND FD`) rebuilds plain settings (`config.plain`) and runs
the service exactly as the CLI would have. NATS_PUBSUB_NO_EXEC=1 runs it in the CLI's process.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import sys
from typing import TYPE_CHECKING, Any, NamedTuple

from nats_pubsub.lifecycle import run_service
from nats_pubsub.logs.console import terminal_width
from nats_pubsub.logs.logger import Logger, stdout_sink
from nats_pubsub.observability.health import with_endpoint

if TYPE_CHECKING:
    from pydantic import BaseModel

__all__ = [
    "NO_EXEC_ENV",
    "SERVICES",
    "is_console",
    "launch_argv",
    "main",
    "make_logger",
    "run",
    "start",
]

NO_EXEC_ENV = "NATS_PUBSUB_NO_EXEC"


class Service(NamedTuple):
    """How a command runs: its logger's name, its endpoint's name, and its main function."""

    logger: str
    endpoint: str
    module: str
    function: str


SERVICES = {
    "publish": Service("nats-publisher", "publisher", "services.publisher", "run_publisher"),
    "subscribe": Service("nats-subscriber", "subscriber", "services.subscriber", "run_subscriber"),
    "payments": Service("payment-publisher", "payments", "services.payments", "run_payments"),
    "monitor": Service("message-logger", "monitor", "services.monitor", "run_monitor"),
    "gateway": Service("nats-gateway", "gateway", "gateway.service", "run_gateway"),
}


def is_console(log_format: str) -> bool:
    """True when records on stdout are console lines: asked for, or `auto` on a terminal."""
    return log_format == "console" or (log_format == "auto" and sys.stdout.isatty())


def make_logger(name: str, log_format: str, log_level: str) -> Logger:
    """The service's logger: JSON lines, or console lines when asked or on a terminal."""
    if not is_console(log_format):
        return Logger(name, stdout_sink(), level=log_level)
    color, width = sys.stdout.isatty(), terminal_width()
    return Logger(name, stdout_sink(), level=log_level, fmt="console", color=color, width=width)


def run(command: str, settings: Any) -> int:
    """Run `command`'s service with `settings` (a pydantic model or plain settings) to its exit."""
    spec = SERVICES[command]
    service = getattr(importlib.import_module(f"nats_pubsub.{spec.module}"), spec.function)
    log = make_logger(spec.logger, settings.log_format, settings.log_level)
    main = with_endpoint(
        settings.metrics_host,
        settings.metrics_port,
        log,
        spec.endpoint,
        lambda stop: service(settings, log, stop),
        top_subjects=getattr(settings, "top_subjects", 10),  # the monitor's
    )
    return run_service(main, log)


def start(command: str, settings: BaseModel, may_exec: bool = True) -> int:
    """Run `command` in a lean process replacing this one; returns only if it ran here instead."""
    if may_exec and _exec_possible():
        from nats_pubsub.config.plain import encode_settings

        _exec(command, encode_settings(settings))  # returns only if the exec could not happen
    return run(command, settings)


def _exec_possible() -> bool:
    """Exec is wanted, possible here, and the new interpreter will import this same package."""
    if os.environ.get(NO_EXEC_ENV, "").strip().lower() not in ("", "0", "false", "no"):
        return False
    if os.name != "posix" or not sys.executable:
        return False
    # The new process runs with -P: it sees sys.path without the script's or cwd's entry.
    root = os.path.realpath(os.path.dirname(os.path.dirname(__file__)))
    kept = sys.path if sys.flags.safe_path else sys.path[1:]
    return any(os.path.realpath(entry or os.curdir) == root for entry in kept)


def launch_argv(command: str, fd: int) -> list[str]:
    """The command line of a lean interpreter running `command` with settings read from `fd`
    (this interpreter's flags carried over: -X, -W, -O, -E, ... as multiprocessing does)."""
    import subprocess

    flags = subprocess._args_from_interpreter_flags()  # type: ignore[attr-defined]
    safe_path = [] if sys.flags.safe_path else ["-P"]
    return [sys.executable, *flags, *safe_path, "-m", __name__, command, str(fd)]


def _exec(command: str, payload: bytes) -> None:
    """Write `payload` into a pipe the new interpreter inherits, and exec it."""
    read_fd, write_fd = os.pipe()
    try:
        os.set_blocking(write_fd, False)  # a full pipe must not hang us: run here instead
        written = os.write(write_fd, payload)
    except BlockingIOError:
        written = 0
    finally:
        os.close(write_fd)
    if written == len(payload):
        os.set_inheritable(read_fd, True)
        argv = launch_argv(command, read_fd)
        sys.stdout.flush()
        sys.stderr.flush()
        with contextlib.suppress(OSError):  # e.g. the interpreter went away: run here
            os.execv(sys.executable, argv)
    os.close(read_fd)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the exec'd process: `python -P -m nats_pubsub.launch COMMAND FD`."""
    from nats_pubsub.config.plain import decode_settings

    command, fd = argv or sys.argv[1:3]
    with os.fdopen(int(fd), "rb") as pipe:
        settings = decode_settings(pipe.read())
    sys.exit(run(command, settings))


if __name__ == "__main__":
    main()
