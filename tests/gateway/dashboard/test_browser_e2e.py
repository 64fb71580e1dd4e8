"""The dashboard in a real headless Chromium, against a real stack started here: every panel is
checked against what the stack really did, the forms are used, a service is killed, and the page
is loaded at 10,000 messages a second. Screenshots go to tmp/artifacts (ARTIFACTS_DIR);
DOCS_SCREENSHOT=1 also writes docs/dashboard.png, the README's picture."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from nats_pubsub.server.embedded import EmbeddedServer
from nats_pubsub.testing import ServiceProcess
from tests.gateway.conftest import RunningGateway, nats_call, start_gateway
from tests.helpers.browser import REPO, Watched, launch, off_loop
from tests.helpers.fixtures import CliFactory

pytestmark = pytest.mark.e2e

SERVICES = (
    "nats-pubsub-gateway",
    "nats-pubsub-subscriber",
    "nats-pubsub-monitor",
    "nats-pubsub-publisher",
    "nats-pubsub-payments",
)
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One Chromium for this module's tests."""
    yield from launch()


def _open(browser: Any, url: str, name: str, scheme: str = "light", **viewport: Any) -> Watched:
    context = browser.new_context(viewport=viewport or DESKTOP, color_scheme=scheme)
    watched = Watched(context.new_page(), name)
    watched.page.goto(url)
    watched.wait("() => document.getElementById('conn').dataset.state === 'live'")
    return watched


def _number(text: str) -> int:
    return int(text.replace(",", "").strip())


def _stream_state(url: str, stream: str) -> dict[str, int]:
    async def job(nc: Any) -> dict[str, int]:
        info = await nc.jsm().stream_info(stream)
        return {"messages": info.state.messages, "last_seq": info.state.last_seq}

    result: dict[str, int] = nats_call(url, job)
    return result


def _stored(url: str, stream: str, seq: int) -> bytes:
    async def job(nc: Any) -> bytes:
        return bytes((await nc.jsm().get_msg(stream, seq)).data)

    result: bytes = nats_call(url, job)
    return result


class Stack:
    """The services the dashboard watches, each a real process."""

    def __init__(self, run_cli: CliFactory, url: str) -> None:
        ensure = run_cli("streams", "--ensure", url=url)
        assert ensure.wait() == 0, ensure.output()
        self.gateway: RunningGateway = start_gateway(run_cli, url, "--dashboard", "always")
        self.gateway.proc.logs.wait_for(lambda r: r.get("purpose") == "dashboard")
        self.subscriber = run_cli("subscribe", "--jetstream", url=url)
        self.monitor = run_cli("monitor", url=url)
        for proc in (self.subscriber, self.monitor):
            proc.logs.wait_for("Subscribed")
        self.publisher = run_cli("publish", "--jetstream", "--interval", "0.1", url=url)
        self.payments = run_cli("payments", "--interval", "0.04", "--seed", "11", url=url)


def _stop(proc: ServiceProcess) -> None:
    proc.signal(signal.SIGTERM)
    assert proc.wait() == 0, proc.output()


def test_every_panel_shows_what_the_stack_really_did(
    browser: Any, run_cli: CliFactory, nats_server: EmbeddedServer
) -> None:
    stack = Stack(run_cli, nats_server.url)
    page = _open(browser, stack.gateway.url + "/", "desktop")

    # Services: each answers the service API and is listed as up, with its counters.
    for name in SERVICES:
        page.wait(
            "(name) => document.querySelector(`#services-rows tr[data-name='${name}']"
            "[data-status='up']`)",
            name,
        )
    page.wait("() => document.querySelectorAll('#services-rows .chip').length > 10")

    # Message rate: the chart draws events.test and the totals move.
    page.wait("() => document.querySelector('#rate-chart path[data-subject=\"events.test\"]')")
    first = _number(page.text("#total-messages"))
    page.wait("(n) => Number(document.getElementById('total-messages').textContent"
              ".replace(/,/g, '')) > n", first)  # fmt: skip

    # The tail: a message opens with its JSON and headers.
    page.wait("() => document.querySelector('#tail-list li')")
    page.page.locator("#tail-list li").first.click()
    page.wait("() => document.getElementById('detail').open")
    assert page.text("#detail-body").lstrip().startswith("{")
    assert "Nats-Msg-Id" in page.text("#detail-headers")
    page.page.locator("#detail-close").click()

    # Publish through the form; the message shows up in the tail.
    page.page.fill("#publish-subject", "events.dashboard")
    page.page.fill("#publish-body", '{"from": "the browser test", "n": 1}')
    page.page.locator("#publish-form button[type=submit]").click()
    page.wait("() => document.getElementById('publish-result').textContent.startsWith('Stored')")
    assert "Stored in EVENTS at sequence" in page.text("#publish-result")
    mine = "#tail-list li[data-subject='events.dashboard']"
    page.wait(f'() => document.querySelector("{mine}")')
    page.page.locator(mine).first.click()
    page.wait("() => document.getElementById('detail').open")
    assert '"from": "the browser test"' in page.text("#detail-body")
    page.page.locator("#detail-close").click()

    # Replay from sequence 1: what the stream stored there.
    page.wait("() => document.querySelector('#replay-stream option[value=\"EVENTS\"]')")
    page.page.select_option("#replay-stream", "EVENTS")
    page.page.fill("#replay-start", "seq:1")
    page.page.locator("#replay-form button[type=submit]").click()
    page.wait("() => document.querySelectorAll('#replay-rows tr').length === 20")
    assert page.page.locator("#replay-rows tr").first.get_attribute("data-seq") == "1"
    page.page.locator("#replay-rows tr").first.click()
    page.wait("() => document.getElementById('detail').open")
    stored = off_loop(_stored, nats_server.url, "EVENTS", 1)
    assert '"message_id": "publisher-1"' in page.text("#detail-body")
    assert b'"message_id":"publisher-1"' in stored
    page.page.locator("#detail-close").click()

    # Everything running: the README's picture (DOCS_SCREENSHOT=1).
    busy = page.screenshot("running")
    if os.environ.get("DOCS_SCREENSHOT") == "1":
        shutil.copy(busy, REPO / "docs" / "dashboard.png")

    # Payments: stop the publisher, then the page shows exactly what it logged.
    _stop(stack.payments)
    declined = stack.payments.logs.where("Credit card declined")
    accepted = stack.payments.logs.where("Credit card accepted")
    assert declined
    page.wait("(n) => document.getElementById('pay-declined').textContent === n",
              f"{len(declined):,}")  # fmt: skip
    page.wait("(n) => document.getElementById('pay-accepted').textContent === n",
              f"{len(accepted):,}")  # fmt: skip
    shown = page.page.locator("#declines-rows tr").evaluate_all(
        "rows => rows.map(r => [r.dataset.txn, r.dataset.level, r.textContent])"
    )
    expected = [r for r in reversed(declined)][:20]
    assert [txn for txn, _, _ in shown] == [r["transaction_id"] for r in expected]
    assert {level for _, level, _ in shown} == {"ERROR"}
    for (_, _, text), record in zip(shown, expected, strict=True):
        assert record["decline_reason"] in text
        assert f"{record['amount']:.2f}" in text
    stands_out = page.page.evaluate(
        "() => [getComputedStyle(document.querySelector('#declines-rows tr td')).backgroundColor,"
        " getComputedStyle(document.getElementById('payments')).backgroundColor]"
    )
    assert stands_out[0] != stands_out[1]

    # Streams and consumers: once the publisher stops, the panel holds the stream's real count.
    _stop(stack.publisher)
    state = off_loop(_stream_state, nats_server.url, "EVENTS")
    page.wait(
        "(n) => { const row = document.querySelector("
        "'#streams-rows tr.stream[data-stream=EVENTS]');"
        " return row && row.querySelector('.count').textContent === n; }",
        f"{state['messages']:,}",
    )
    page.wait("() => document.querySelector(\"#streams-rows tr[data-consumer='subscriber']\")")

    # A service killed outright stops answering and turns grey.
    stack.subscriber.process.kill()
    stack.subscriber.wait()
    gone = "#services-rows tr[data-name='nats-pubsub-subscriber'][data-status='gone']"
    page.wait(f'() => document.querySelector("{gone}")', timeout=15)
    colors = page.page.evaluate(
        f'() => [getComputedStyle(document.querySelector("{gone} .dot")).backgroundColor,'
        " getComputedStyle(document.querySelector(\"#services-rows tr[data-status='up'] .dot\"))"
        ".backgroundColor]"
    )
    assert colors[0] != colors[1]  # grey, not green

    page.screenshot("light")
    assert page.errors == []

    # A phone, in the dark: one column, nothing wider than the screen.
    phone = _open(browser, stack.gateway.url + "/", "phone", "dark", **PHONE)
    phone.wait("() => document.querySelectorAll('#services-rows tr').length >= 5")
    layout = phone.page.evaluate(
        "() => ({wide: document.documentElement.scrollWidth, screen: window.innerWidth,"
        " bg: getComputedStyle(document.body).backgroundColor,"
        " columns: getComputedStyle(document.querySelector('main')).gridTemplateColumns})"
    )
    assert layout["wide"] <= layout["screen"], layout
    assert len(layout["columns"].split()) == 1, layout
    assert _luminance(layout["bg"]) < 0.2, layout  # dark
    assert _luminance(page.page.evaluate("getComputedStyle(document.body).backgroundColor")) > 0.8
    phone.screenshot("dark-phone")
    assert phone.errors == []


def _luminance(css: str) -> float:
    red, green, blue = (int(part) for part in css[css.index("(") + 1 : -1].split(",")[:3])
    return (0.2126 * red + 0.7152 * green + 0.0722 * blue) / 255


def _flood(url: str, subject: str, seconds: int, per_second: int, done: threading.Event) -> int:
    """Publish `per_second` messages a second for `seconds`, in tenths; how many were sent."""

    async def job(nc: Any) -> int:
        sent = 0
        start = time.monotonic()
        for tenth in range(seconds * 10):
            for _ in range(per_second // 10):
                sent += 1
                await nc.publish(subject, b'{"n": %d, "pad": "%s"}' % (sent, b"x" * 100))
            await nc.flush()
            delay = start + (tenth + 1) / 10 - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
        return sent

    try:
        result: int = nats_call(url, job)
        return result
    finally:
        done.set()


def test_the_page_stays_responsive_at_10000_messages_a_second(
    browser: Any, run_cli: CliFactory, nats_server: EmbeddedServer
) -> None:
    """The gateway counts every message and samples the tail: the page gets a tick a second and
    at most 20 tail messages a second, and keeps answering clicks meanwhile."""
    gateway = start_gateway(run_cli, nats_server.url)
    page = _open(browser, gateway.url + "/", "load")
    page.wait("() => document.getElementById('tail-status').textContent.startsWith('Sampling')")
    done = threading.Event()
    result: list[int] = []
    seconds, rate = 8, 10_000
    flood = threading.Thread(
        target=lambda: result.append(_flood(nats_server.url, "load.test", seconds, rate, done))
    )
    started = time.monotonic()
    flood.start()
    try:
        page.wait("() => Number(document.getElementById('rate-now').textContent"
                  ".replace(/,/g, '')) >= 1000")  # fmt: skip
        clicks = 0
        while not done.is_set():  # the page answers while the flood goes on
            page.page.locator("#tail-list li").first.click()
            page.wait("() => document.getElementById('detail').open")
            assert "load.test" in page.text("#detail-title")
            page.page.locator("#detail-close").click()
            page.wait("() => !document.getElementById('detail').open")
            clicks += 1
    finally:
        flood.join()
    elapsed = time.monotonic() - started
    (sent,) = result
    assert sent == seconds * rate
    assert clicks >= 1
    page.wait("(n) => document.getElementById('total-messages').textContent === n", f"{sent:,}")
    page.wait(
        "(n) => document.getElementById('tail-status').textContent.includes(` of ${n} matching`)",
        f"{sent:,}",
    )
    status = page.text("#tail-status")
    shown = _number(status.split("Showing ")[1].split(" of ")[0])
    assert shown <= 20 * (elapsed + 2)  # sampled: the page never got the flood
    assert page.page.locator("#tail-list li").count() <= 200
    legend = page.text("#rate-legend li[data-subject='load.test']")
    assert f"{sent:,} total" in legend
    page.screenshot("load")
    assert page.errors == []
