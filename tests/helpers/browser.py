"""A real headless Chromium for the dashboard's tests, driven by Playwright (the Debian package
`chromium`, never a downloaded browser), and what the tests need around it: console errors
collected, screenshots saved as artifacts, NATS helpers run off Playwright's event loop.

Without Chromium or Playwright the tests are skipped with one line saying what to install;
with REQUIRE_BROWSER=1 (CI) that is a failure.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import pytest

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(os.environ.get("ARTIFACTS_DIR", REPO / "tmp" / "artifacts"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
T = TypeVar("T")

__all__ = ["ARTIFACTS", "CHROMIUM", "REPO", "Watched", "launch", "off_loop", "unavailable"]


def unavailable(install: str) -> NoReturn:
    """Skip, naming what to install; fail instead when REQUIRE_BROWSER=1."""
    line = f"browser tests: install {install}"
    if os.environ.get("REQUIRE_BROWSER") == "1":
        pytest.fail(f"REQUIRE_BROWSER=1: {line}", pytrace=False)
    pytest.skip(line)


def launch() -> Iterator[Any]:
    """Chromium under Playwright, for one module's tests."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("the playwright package (make .venv/.installed installs it)")
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        unavailable("Chromium: apt-get install chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def off_loop(job: Callable[..., T], *args: Any) -> T:
    """Run `job(*args)` on another thread: Playwright's sync API owns this thread's event loop,
    and our NATS helpers run one of their own."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(job, *args).result()


class Watched:
    """A page with its console errors and uncaught exceptions collected."""

    def __init__(self, page: Any, name: str) -> None:
        self.page = page
        self.name = name
        self.errors: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.errors.append(f"uncaught: {exc}"))

    def _console(self, message: Any) -> None:
        if message.type == "error":
            self.errors.append(f"console: {message.text}")

    def screenshot(self, label: str, full_page: bool = True) -> Path:
        """Save a PNG under the artifacts directory; its path."""
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"dashboard-{self.name}-{label}.png"
        self.page.screenshot(path=str(path), full_page=full_page)
        return path

    def text(self, selector: str) -> str:
        """The text of the first element matching `selector`."""
        return str(self.page.locator(selector).first.inner_text())

    def wait(self, script: str, arg: Any = None, timeout: float = 30.0) -> Any:
        """Wait until the JavaScript function `script` returns a truthy value; that value."""
        handle = self.page.wait_for_function(script, arg=arg, timeout=timeout * 1000)
        return handle.json_value()
