"""A missing peer toolchain skips that peer's tests with one line naming what to install, and
fails them instead when REQUIRE_PEERS=1 (as CI sets it)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.peers import conftest

INSTALL = {
    "build_go": "Go peer: install golang-go and golang-github-nats-io-go-nats-dev",
    "build_js": "JavaScript peer: install Node.js 18 or newer with npm (Debian: nodejs npm)",
    "build_c": "C peer: install a C compiler, libnats-dev and libjansson-dev",
}


@pytest.fixture
def no_toolchain(monkeypatch: pytest.MonkeyPatch) -> None:
    """No go, node, npm or cc on the PATH."""
    monkeypatch.setattr(conftest.shutil, "which", lambda name: None)


@pytest.mark.parametrize("builder", INSTALL)
def test_missing_toolchain_skips_with_one_line(
    builder: str, no_toolchain: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Without REQUIRE_PEERS the peer is skipped, the reason saying what to install."""
    monkeypatch.delenv("REQUIRE_PEERS", raising=False)
    build: Callable[[Path], list[str]] = getattr(conftest, builder)
    with pytest.raises(pytest.skip.Exception) as info:
        build(tmp_path)
    assert str(info.value) == INSTALL[builder]


@pytest.mark.parametrize("builder", INSTALL)
def test_missing_toolchain_fails_when_peers_are_required(
    builder: str, no_toolchain: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """With REQUIRE_PEERS=1 a missing toolchain is a failure, never a skip."""
    monkeypatch.setenv("REQUIRE_PEERS", "1")
    build: Callable[[Path], list[str]] = getattr(conftest, builder)
    with pytest.raises(pytest.fail.Exception) as info:
        build(tmp_path)
    assert str(info.value) == f"REQUIRE_PEERS=1: {INSTALL[builder]}"


def test_missing_go_library_names_the_package(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """With go but without nats.go the skip names the Debian package that has it."""
    monkeypatch.delenv("REQUIRE_PEERS", raising=False)
    monkeypatch.setattr(conftest, "GOPATH", str(tmp_path / "empty"))
    monkeypatch.setattr(conftest.shutil, "which", lambda name: "/usr/bin/" + name)
    with pytest.raises(pytest.skip.Exception) as info:
        conftest.build_go(tmp_path)
    assert str(info.value) == "Go peer: install golang-github-nats-io-go-nats-dev"


def test_missing_c_libraries_skip(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A compiler that cannot link libnats and jansson counts as a missing toolchain."""
    monkeypatch.delenv("REQUIRE_PEERS", raising=False)
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "cc").write_text("#!/bin/sh\necho 'nats/nats.h: No such file' >&2\nexit 1\n")
    (fake / "cc").chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake}:/usr/bin:/bin")
    with pytest.raises(pytest.skip.Exception) as info:
        conftest.build_c(tmp_path)
    assert str(info.value) == INSTALL["build_c"]


def test_npm_ci_failing_counts_as_missing(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Node without a way to the npm registry: the JavaScript peer is skipped, saying why."""
    monkeypatch.delenv("REQUIRE_PEERS", raising=False)
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "node").write_text("#!/bin/sh\necho v20.0.0\n")
    (fake / "npm").write_text("#!/bin/sh\necho 'npm error network ENOTFOUND' >&2\nexit 1\n")
    for tool in ("node", "npm"):
        (fake / tool).chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake}:/usr/bin:/bin")
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(pytest.skip.Exception) as info:
        conftest.build_js(out)
    assert str(info.value) == (
        "JavaScript peer: install the npm package nats (npm ci failed: npm error network ENOTFOUND)"
    )
