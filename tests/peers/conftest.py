"""Fixtures: the Go, JavaScript and C peers, built once a session into a temp dir, and run.

A peer whose toolchain is missing is skipped with one line saying what to install; with
REQUIRE_PEERS=1 (set by .ci/run) that is a failure instead. A toolchain that is there but fails
to build a peer always fails.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any, NamedTuple, NoReturn

import pytest

from nats_pubsub.testing import LogRecords

PEERS = Path(__file__).parent
GOPATH = "/usr/share/gocode"  # where Debian's golang-github-nats-io-go-nats-dev puts nats.go
_BUILD_TIMEOUT = 600.0


def unavailable(peer: str, install: str) -> NoReturn:
    """Skip this peer's tests, naming what to install; fail when REQUIRE_PEERS=1."""
    line = f"{peer} peer: install {install}"
    if os.environ.get("REQUIRE_PEERS") == "1":
        pytest.fail(f"REQUIRE_PEERS=1: {line}", pytrace=False)
    pytest.skip(line)


def _build(argv: list[str], cwd: Path, env: dict[str, str] | None = None) -> None:
    result = subprocess.run(
        argv,
        cwd=cwd,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=_BUILD_TIMEOUT,
        check=False,
    )
    if result.returncode != 0:
        pytest.fail(f"{' '.join(argv)} failed:\n{result.stdout}{result.stderr}", pytrace=False)


def build_go(out: Path) -> list[str]:
    """nats.go from Debian, built offline (GOPATH mode)."""
    if shutil.which("go") is None:
        unavailable("Go", "golang-go and golang-github-nats-io-go-nats-dev")
    if not Path(GOPATH, "src/github.com/nats-io/nats.go").is_dir():
        unavailable("Go", "golang-github-nats-io-go-nats-dev")
    binary = out / "go-peer"
    env = {"GO111MODULE": "off", "GOPATH": GOPATH, "GOCACHE": str(out / "gocache")}
    _build(["go", "build", "-o", str(binary), "peer.go"], PEERS / "go", env)
    return [str(binary)]


def _node_major() -> int:
    version = subprocess.run(
        ["node", "--version"], capture_output=True, text=True, check=False
    ).stdout
    match = re.match(r"v(\d+)\.", version)
    return int(match.group(1)) if match else 0


def build_js(out: Path) -> list[str]:
    """The npm package `nats` at the locked version, installed with `npm ci` outside the tree."""
    if shutil.which("node") is None or shutil.which("npm") is None or _node_major() < 18:
        unavailable("JavaScript", "Node.js 18 or newer with npm (Debian: nodejs npm)")
    for name in ("package.json", "package-lock.json", "peer.mjs"):
        shutil.copy(PEERS / "js" / name, out / name)
    installed = subprocess.run(
        ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=out,
        capture_output=True,
        text=True,
        timeout=_BUILD_TIMEOUT,
        check=False,
    )
    if installed.returncode != 0:  # most often: no way to the npm registry
        last = (installed.stderr.strip().splitlines() or ["no output"])[-1]
        unavailable("JavaScript", f"the npm package nats (npm ci failed: {last})")
    return ["node", str(out / "peer.mjs")]


def build_c(out: Path) -> list[str]:
    """libnats and jansson from Debian, with the system C compiler."""
    install = "a C compiler, libnats-dev and libjansson-dev"
    if shutil.which("cc") is None:
        unavailable("C", install)
    probe = out / "probe.c"
    probe.write_text("#include <nats/nats.h>\n#include <jansson.h>\nint main(void) { return 0; }\n")
    linked = subprocess.run(
        ["cc", str(probe), "-o", str(out / "probe"), "-lnats", "-ljansson"],
        capture_output=True,
        check=False,
    )
    if linked.returncode != 0:
        unavailable("C", install)
    binary = out / "c-peer"
    flags = ["-std=c11", "-Wall", "-Wextra", "-Werror", "-O1"]
    libraries = ["-lnats", "-ljansson", "-lpthread"]
    _build(["cc", *flags, "peer.c", "-o", str(binary), *libraries], PEERS / "c")
    return [str(binary)]


_BUILDERS = {"go": build_go, "js": build_js, "c": build_c}


class PeerProcess:
    """A running peer: its JSON output lines as records, to wait on."""

    def __init__(self, argv: list[str]) -> None:
        self.lines = LogRecords()
        self.errors = LogRecords()
        self.process = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        self._readers = [
            threading.Thread(target=_pump, args=(self.process.stdout, self.lines), daemon=True),
            threading.Thread(target=_pump, args=(self.process.stderr, self.errors), daemon=True),
        ]
        for reader in self._readers:
            reader.start()

    def wait(self, timeout: float = 90.0) -> int:
        """Wait for exit and its output; the exit code."""
        code = self.process.wait(timeout)
        for reader in self._readers:
            reader.join(timeout=10)
        return code

    def stop(self) -> None:
        """Make sure it is gone."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        for reader in self._readers:
            reader.join(timeout=5)

    def output(self) -> str:
        """Everything it printed, for assertion messages."""
        return "\n".join(self.lines.raw + self.errors.raw)


def _pump(stream: IO[bytes], sink: LogRecords) -> None:
    for raw in stream:
        sink.add(raw.decode("utf-8", "replace").rstrip("\n"))


class Peer(NamedTuple):
    """A built peer: its language and the command that runs it."""

    name: str
    argv: list[str]

    def run(self, *args: str) -> list[dict[str, Any]]:
        """Run a command to its end (exit 0 expected); its output lines."""
        proc = PeerProcess([*self.argv, *args])
        try:
            code = proc.wait()
        finally:
            proc.stop()
        assert code == 0, proc.output()
        return proc.lines.records


@pytest.fixture(scope="session", params=sorted(_BUILDERS))
def peer(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Peer:
    """Each peer (c, go, js), built once a session into a temp dir."""
    name: str = request.param
    return Peer(name, _BUILDERS[name](tmp_path_factory.mktemp(f"peer-{name}")))


StartPeer = Callable[..., PeerProcess]


@pytest.fixture
def start_peer(peer: Peer) -> Iterator[StartPeer]:
    """Start long-running peer commands; every one is stopped at the end."""
    started: list[PeerProcess] = []

    def start(*args: str) -> PeerProcess:
        proc = PeerProcess([*peer.argv, *args])
        started.append(proc)
        return proc

    yield start
    for proc in started:
        proc.stop()
