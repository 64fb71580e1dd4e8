"""Helpers for driving the real CLI as a user would: spawn it, read its JSON logs, signal it.

Shipped with the package so that our tests and yours use the same, honest harness.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

__all__ = ["LogRecords", "ServiceProcess", "service_env"]

Record = dict[str, Any]
Predicate = Callable[[Record], bool]


def service_env(nats_url: str, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """An environment for a service under test: JSON logs, our URL, no inherited settings
    (NATS_*, HOSTNAME, ...; the process switches NATS_PUBSUB_* are passed on), and the HTTP
    gateway (`up` starts one) on a free port."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k.startswith("NATS_PUBSUB_")
        or (
            not k.startswith(("NATS_", "QUEUE_", "PUBLISH_", "EVENT_", "LOG_", "GATEWAY_"))
            and k != "HOSTNAME"
        )
    }
    env.update(
        {"NATS_URL": nats_url, "LOG_FORMAT": "json", "PYTHONUNBUFFERED": "1", "GATEWAY_PORT": "0"}
    )
    env.update(extra or {})
    return env


def _by_message(text: str) -> Predicate:
    def matches(record: Record) -> bool:
        return record.get("message") == text

    return matches


class LogRecords:
    """JSON log records arriving from a process, with waits on what they say."""

    def __init__(self) -> None:
        self.records: list[Record] = []
        self.raw: list[str] = []
        self._changed = threading.Condition()

    def add(self, line: str) -> None:
        """Store one output line (kept raw when it is not a JSON object)."""
        with self._changed:
            self.raw.append(line)
            with contextlib.suppress(ValueError):
                record = json.loads(line)
                if isinstance(record, dict):
                    self.records.append(record)
            self._changed.notify_all()

    def where(self, message: str | None = None, **fields: Any) -> list[Record]:
        """Records with this `message` text whose fields equal `fields`."""
        with self._changed:
            return [
                r
                for r in self.records
                if (message is None or r.get("message") == message)
                and all(r.get(k) == v for k, v in fields.items())
            ]

    def wait_for(
        self, predicate: Predicate | str, count: int = 1, timeout: float = 30.0
    ) -> list[Record]:
        """Block until `count` records satisfy `predicate` (or carry that message text)."""
        test = _by_message(predicate) if isinstance(predicate, str) else predicate
        return self._wait(lambda: [r for r in self.records if test(r)], predicate, count, timeout)

    def wait_for_line(self, text: str, count: int = 1, timeout: float = 30.0) -> list[str]:
        """Block until `count` output lines contain `text` (console output, not JSON)."""
        return self._wait(lambda: [line for line in self.raw if text in line], text, count, timeout)

    def _wait(
        self, matching: Callable[[], list[Any]], what: object, count: int, timeout: float
    ) -> list[Any]:
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                found = matching()
                if len(found) >= count:
                    return found
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    tail = "\n".join(self.raw[-15:])
                    raise TimeoutError(
                        f"waited {timeout}s for {count} record(s) {what!r}, "
                        f"saw {len(found)}; last output:\n{tail}"
                    )
                self._changed.wait(remaining)


class ServiceProcess:
    """One `nats-pubsub` subcommand running as a child process."""

    def __init__(self, args: Sequence[str], env: Mapping[str, str], cwd: str | None = None) -> None:
        self.args = list(args)
        self.logs = LogRecords()
        self.stderr = LogRecords()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "nats_pubsub", *self.args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=dict(env),
            cwd=cwd,
            start_new_session=True,
        )
        self._readers = [
            threading.Thread(target=self._pump, args=(self.process.stdout, self.logs), daemon=True),
            threading.Thread(
                target=self._pump, args=(self.process.stderr, self.stderr), daemon=True
            ),
        ]
        for reader in self._readers:
            reader.start()

    @staticmethod
    def _pump(stream: Any, sink: LogRecords) -> None:
        for raw in stream:
            sink.add(raw.decode("utf-8", "replace").rstrip("\n"))

    def signal(self, signum: int = signal.SIGTERM) -> None:
        """Send a signal, as `kill` or Ctrl+C would."""
        if self.process.poll() is None:
            self.process.send_signal(signum)

    def wait(self, timeout: float = 60.0) -> int:
        """Wait for exit and for its output to be read; return the exit code."""
        code = self.process.wait(timeout)
        for reader in self._readers:
            reader.join(timeout=10)
        return code

    def stop(self) -> None:
        """Make sure the process is gone (SIGTERM, then SIGKILL)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        for reader in self._readers:
            reader.join(timeout=5)

    def output(self) -> str:
        """Everything printed so far, stdout then stderr, for assertion messages."""
        return "\n".join(self.logs.raw + self.stderr.raw)
