"""The gateway's ASGI application: route, check the token, cap the body, answer, log, count.

Every request ends in one `HTTP request` record (method, route template, status, duration) and
the request counters; every failure is a JSON `{"error": ...}` with a 4xx or 5xx, never a
traceback. WebSocket routes get the same routing and token check before they are accepted.
"""

from __future__ import annotations

import time
from typing import Final

from nats_pubsub.gateway.access import authorized, cors_headers, preflight_headers, token_in
from nats_pubsub.gateway.asgi import (
    BodyTooLarge,
    Receive,
    Request,
    Response,
    Scope,
    Send,
    error,
    read_body,
    send_response,
)
from nats_pubsub.gateway.failures import failure
from nats_pubsub.gateway.routing import Route, Router
from nats_pubsub.gateway.state import Gateway

__all__ = ["GatewayApp"]

_UNMATCHED: Final = "unmatched"
_WITH_BODY: Final = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_UNAUTHORIZED: Final = "Missing or invalid bearer token: send 'Authorization: Bearer <token>'"
_CHALLENGE: Final = [(b"www-authenticate", b'Bearer realm="nats-gateway"')]
_FIELDS: Final = ("method", "route", "status", "duration_ms")


def _header(headers: list[tuple[bytes, bytes]], name: bytes) -> bytes | None:
    for key, value in headers:
        if key == name:
            return value
    return None


class GatewayApp:
    """The ASGI callable uvicorn runs."""

    def __init__(self, gw: Gateway, routes: list[Route]) -> None:
        self.gw = gw
        self.router = Router(routes)
        self._record = gw.log.record_emitter("INFO", "HTTP request", _FIELDS, "handle")
        self._fail_log = gw.log.emitter("ERROR", "Request failed", "handle")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            await self._http(scope, receive, send)
        elif kind == "websocket":
            await self._websocket(scope, receive, send)
        elif kind == "lifespan":
            await _lifespan(receive, send)

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        gw = self.gw
        method = scope["method"]
        headers: list[tuple[bytes, bytes]] = scope["headers"]
        extra = cors_headers(_header(headers, b"origin"), gw.origins) if gw.origins else []
        match = self.router.match("GET" if method == "HEAD" else method, scope["path"])
        route = match.route
        name = route.template if route is not None else _UNMATCHED
        if route is None:
            response = self._miss(method, scope["path"], match.status, match.allow, headers)
        elif not route.public and not authorized(
            gw.token, token_in(_header(headers, b"authorization"), scope["query_string"])
        ):
            response = error(401, _UNAUTHORIZED)
            response.headers.extend(_CHALLENGE)
        else:
            response = await self._answer(scope, receive, route, match.params, headers)
        try:
            await send_response(send, response, extra)
            if response.stream is not None:
                await response.stream(send, receive)
        finally:
            seconds = time.perf_counter() - started
            gw.http.observe(name, method, response.status, seconds)
            self._record(method, name, response.status, round(seconds * 1000, 3))

    def _miss(
        self,
        method: str,
        path: str,
        status: int,
        allow: tuple[str, ...],
        headers: list[tuple[bytes, bytes]],
    ) -> Response:
        if method == "OPTIONS":
            preflight = preflight_headers(_header(headers, b"origin"), self.gw.origins)
            if preflight is None:
                return error(403, "This origin may not call the gateway (GATEWAY_CORS_ORIGINS)")
            return Response(204, b"", headers=preflight)
        if status == 405 and allow == ("WS",):
            return error(400, "This route is a WebSocket: connect with a WebSocket client")
        if status == 405:
            response = error(405, f"{method} is not allowed here; use {', '.join(allow)}")
            response.headers.append((b"allow", ", ".join(allow).encode()))
            return response
        return error(404, f"No route for {method} {path}; the API is described at /docs")

    async def _answer(
        self,
        scope: Scope,
        receive: Receive,
        route: Route,
        params: dict[str, str],
        headers: list[tuple[bytes, bytes]],
    ) -> Response:
        method = scope["method"]
        body = b""
        if method in _WITH_BODY:
            length = _header(headers, b"content-length")
            try:
                declared = int(length) if length is not None else None
                body = await read_body(receive, self.gw.max_body, declared)
            except BodyTooLarge as exc:
                return error(413, str(exc))
            except ValueError:
                return error(400, "Content-Length is not a number")
        request = Request(method, scope["path"], params, scope["query_string"], headers, body)
        try:
            response: Response = await route.handler(self.gw, request)
        except Exception as exc:  # every failure becomes a JSON answer; see failures.py
            return self._failed(exc, route, params)
        return response

    def _failed(self, exc: Exception, route: Route, params: dict[str, str]) -> Response:
        outcome = failure(exc, params.get("stream") or params.get("name"), params.get("consumer"))
        if outcome.unexpected:
            self._fail_log(
                {"route": route.template, "error": repr(exc), "error_type": type(exc).__name__}
            )
        if outcome.details is not None:
            return error(outcome.status, outcome.text, details=outcome.details)
        return error(outcome.status, outcome.text)

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        gw = self.gw
        headers: list[tuple[bytes, bytes]] = scope["headers"]
        match = self.router.match("WS", scope["path"])
        route = match.route
        if route is None or not authorized(
            gw.token, token_in(_header(headers, b"authorization"), scope["query_string"])
        ):
            await receive()  # websocket.connect
            await send({"type": "websocket.close", "code": 1008})  # refused: HTTP 403
            status = 404 if route is None else 401
            name = route.template if route is not None else _UNMATCHED
            gw.http.observe(name, "WS", status, 0.0)
            self._record("WS", name, status, 0.0)
            return
        request = Request("WS", scope["path"], match.params, scope["query_string"], headers)
        started = time.perf_counter()
        status = 101
        try:
            await route.handler(gw, request, receive, send)
        except Exception as exc:  # the handler sends its own error frames; this is a backstop
            status = failure(exc).status
            self._fail_log({"route": route.template, "error": repr(exc)})
        finally:
            seconds = time.perf_counter() - started
            gw.http.observe(route.template, "WS", status, seconds)
            self._record("WS", route.template, status, round(seconds * 1000, 3))


async def _lifespan(receive: Receive, send: Send) -> None:
    """Startup and shutdown are the service's (gateway/service.py): just acknowledge them."""
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
