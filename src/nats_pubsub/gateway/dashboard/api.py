"""The dashboard's routes: the page and its files (static, no token needed: they hold no data),
and its two Server-Sent Event streams, the per-second feed and a sampled tail (token needed).

Each open stream takes one of the gateway's live-stream slots (GATEWAY_MAX_STREAMS).
"""

from __future__ import annotations

import asyncio
from importlib.resources import files
from typing import Final

from nats_pubsub.errors import NatsConnectError, NatsError
from nats_pubsub.gateway import validation
from nats_pubsub.gateway.asgi import (
    Receive,
    Request,
    Response,
    Send,
    client_gone,
    end_body,
    error,
    until_first,
)
from nats_pubsub.gateway.dashboard.feed import DashboardFeed
from nats_pubsub.gateway.dashboard.pages import Page
from nats_pubsub.gateway.dashboard.tail import TailCursor
from nats_pubsub.gateway.live_formats import KEEPALIVE_COMMENT, sse_control
from nats_pubsub.gateway.state import Gateway

__all__ = ["ASSETS", "dashboard_asset", "dashboard_page", "feed_stream", "tail_stream"]

KEEPALIVE_EVERY: Final = 15.0
ASSETS: Final = {
    "dashboard.css": b"text/css; charset=utf-8",
    "dashboard.js": b"text/javascript; charset=utf-8",
    "favicon.svg": b"image/svg+xml",
}
_STATIC = files("nats_pubsub.gateway.dashboard") / "static"
_NO_CACHE: Final = [(b"cache-control", b"no-cache")]
_SSE_HEADERS: Final = [(b"cache-control", b"no-cache"), (b"x-accel-buffering", b"no")]
_PAGE_HEADERS: Final = [
    (b"cache-control", b"no-cache"),
    # Everything the page loads comes from the gateway itself.
    (
        b"content-security-policy",
        b"default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        b"connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
    ),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
]


_OFF: Final = "The dashboard is off (GATEWAY_DASHBOARD=off); the API index is at /api"


async def dashboard_page(gw: Gateway, req: Request) -> Response:
    """`GET /` and `GET /dashboard`: the live dashboard (HTML; its data needs the token)."""
    if gw.settings.gateway_dashboard == "off":
        return error(404, _OFF)
    body = (_STATIC / "index.html").read_bytes()
    return Response(200, body, b"text/html; charset=utf-8", list(_PAGE_HEADERS))


async def dashboard_asset(gw: Gateway, req: Request) -> Response:
    """`GET /dashboard/{file}`: the page's stylesheet, script and icon."""
    name = req.params["file"]
    content_type = ASSETS.get(name)
    if content_type is None:
        return error(404, f"No file {name!r} under /dashboard")
    headers = [*_NO_CACHE, (b"x-content-type-options", b"nosniff")]
    return Response(200, (_STATIC / name).read_bytes(), content_type, headers)


def _feed(gw: Gateway) -> DashboardFeed:
    gw.need()  # 503 while NATS is not connected yet
    feed = gw.dashboard
    if feed is None:
        raise NatsConnectError("the dashboard is still starting; try again shortly")
    return feed


async def feed_stream(gw: Gateway, req: Request) -> Response:
    """`GET /api/dashboard/feed`: a `snapshot` event, then a `tick` every second."""
    if gw.settings.gateway_dashboard == "off":
        return error(404, _OFF)
    feed = _feed(gw)
    if not gw.open_live():
        return error(429, "Too many live streams open; try again later")
    page = Page()
    try:
        await feed.open_page(page)
    except NatsError:
        gw.close_live()
        raise
    page.put(feed.snapshot_event())
    return _page_stream(gw, feed, page)


async def tail_stream(gw: Gateway, req: Request) -> Response:
    """`GET /api/dashboard/tail?subject=>`: sampled messages on a filter (wildcards), at most
    ten every half second, each batch saying how many others matched."""
    pattern = validation.filter_subject(req.query.get("subject") or ">")
    if gw.settings.gateway_dashboard == "off":
        return error(404, _OFF)
    feed = _feed(gw)
    if not gw.open_live():
        return error(429, "Too many live streams open; try again later")
    page = Page()
    try:
        await feed.open_page(page, tail=True)
    except NatsError:
        gw.close_live()
        raise
    page.cursor = TailCursor(pattern, feed.tail)
    page.put(sse_control("subscribed", f"Sampling {pattern}", subject=pattern))
    return _page_stream(gw, feed, page)


def _page_stream(gw: Gateway, feed: DashboardFeed, page: Page) -> Response:
    """The response streaming `page`'s events; the page and its live slot are given back at
    the end."""

    async def run(send: Send, receive: Receive) -> None:
        try:
            await _pump(gw, page, send, receive)
        finally:
            feed.close_page(page)
            gw.close_live()

    return Response(200, b"", b"text/event-stream", list(_SSE_HEADERS), stream=run)


async def _pump(gw: Gateway, page: Page, send: Send, receive: Receive) -> None:
    """Write the page's events until it goes away or the gateway stops."""

    async def write(data: bytes) -> None:
        await send({"type": "http.response.body", "body": data, "more_body": True})

    async def pump() -> None:
        while True:
            try:
                events = await asyncio.wait_for(page.take(), KEEPALIVE_EVERY)
            except TimeoutError:
                await write(KEEPALIVE_COMMENT)
                continue
            await write(b"".join(events))

    stopping = await until_first(pump(), client_gone(receive), gw.stopping)
    await end_body(send, sse_control("end", "Gateway shutting down") if stopping else None)
