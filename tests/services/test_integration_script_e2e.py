"""End to end: tests/integration_test.sh passes against the embedded stack (no Docker)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

SCRIPT = Path(__file__).resolve().parent.parent / "integration_test.sh"


def test_integration_script_passes_on_the_embedded_stack() -> None:
    """Every check of the script passes: health, connz/subsz, flow, JSON logs, metrics."""
    bash = shutil.which("bash")
    if bash is None:
        pytest.skip("bash not installed")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NATS_", "METRICS_"))}
    env["PYTHON"] = sys.executable
    proc = subprocess.Popen(
        [bash, str(SCRIPT)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=env,
        start_new_session=True,
    )
    try:
        output, _ = proc.communicate(timeout=240)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait()
    text = output.decode(errors="replace")
    assert proc.returncode == 0, text
    assert "FAIL" not in text
    assert "All integration checks passed." in text
