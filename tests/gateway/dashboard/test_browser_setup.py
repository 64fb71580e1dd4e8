"""Without Chromium the browser tests are skipped with one line naming what to install, and
fail instead when REQUIRE_BROWSER=1 (as CI sets it)."""

from __future__ import annotations

import pytest

from tests.helpers import browser

MISSING = "browser tests: install Chromium: apt-get install chromium"


@pytest.fixture
def no_chromium(monkeypatch: pytest.MonkeyPatch) -> None:
    """Chromium is nowhere."""
    monkeypatch.setattr(browser, "CHROMIUM", "/nonexistent/chromium")


def test_a_missing_browser_skips_with_one_line(
    no_chromium: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("REQUIRE_BROWSER", raising=False)
    with pytest.raises(pytest.skip.Exception) as info:
        next(browser.launch())
    assert str(info.value) == MISSING


def test_a_missing_browser_fails_when_browsers_are_required(
    no_chromium: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REQUIRE_BROWSER", "1")
    with pytest.raises(pytest.fail.Exception) as info:
        next(browser.launch())
    assert str(info.value) == f"REQUIRE_BROWSER=1: {MISSING}"
