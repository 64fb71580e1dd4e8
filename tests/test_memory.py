"""Tests for nats_pubsub.memory: releasing start-up memory, each in a fresh interpreter."""

from __future__ import annotations

import subprocess
import sys

import pytest


def _run(code: str) -> list[str]:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return done.stdout.split()


def test_startup_garbage_is_collected_and_survivors_frozen() -> None:
    """Cycles left by start-up are freed; what survives is frozen out of later collections."""
    code = (
        "import gc, weakref\n"
        "class Node: pass\n"
        "a, b = Node(), Node(); a.peer, b.peer = b, a; gone = weakref.ref(a); del a, b\n"
        "gc.disable()\n"
        "from nats_pubsub.memory import release_startup_memory\n"
        "release_startup_memory()\n"
        "print(gone() is None, gc.get_freeze_count() > 0)\n"
    )
    assert _run(code) == ["True", "True"]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="malloc_trim is glibc's")
def test_heap_trim_runs_on_linux() -> None:
    """On Linux the trim is called through libc and reports a boolean."""
    code = "from nats_pubsub.memory import _malloc_trim; print(type(_malloc_trim()).__name__)"
    assert _run(code) == ["bool"]
