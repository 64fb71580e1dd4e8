"""The route table and matching (pure)."""

from __future__ import annotations

from nats_pubsub.gateway.routes import ROUTES
from nats_pubsub.gateway.routing import Route, Router


async def _handler() -> None:
    """A stand-in handler."""


def _route(method: str, template: str) -> Route:
    return Route(method, template, _handler, "s", "t")


def test_parameters_and_literals() -> None:
    """A parameter takes one whole segment; subjects with dots stay whole."""
    router = Router([_route("GET", "/api/messages/{subject}")])
    match = router.match("GET", "/api/messages/events.a.b")
    assert match.route is not None
    assert match.params == {"subject": "events.a.b"}


def test_a_literal_beats_a_parameter_whatever_the_order() -> None:
    """/api/consumers/templates is the templates route, not a stream named templates."""
    router = Router(
        [_route("GET", "/api/consumers/{stream}"), _route("GET", "/api/consumers/templates")]
    )
    match = router.match("GET", "/api/consumers/templates")
    assert match.route is not None
    assert match.route.template == "/api/consumers/templates"
    assert router.match("GET", "/api/consumers/EVENTS").params == {"stream": "EVENTS"}


def test_literals_match_case_insensitively() -> None:
    """As the upstream's routes: /Health is /health; parameters keep their case."""
    router = Router([_route("GET", "/health"), _route("GET", "/api/streams/{name}")])
    assert router.match("GET", "/HEALTH").route is not None
    assert router.match("GET", "/API/Streams/EVENTS").params == {"name": "EVENTS"}


def test_misses() -> None:
    """404 for no path; 405 with the methods allowed; an empty segment matches nothing."""
    router = Router([_route("GET", "/a/{x}"), _route("POST", "/a/{x}")])
    assert router.match("GET", "/b/c").status == 404
    wrong = router.match("DELETE", "/a/c")
    assert (wrong.status, wrong.allow) == (405, ("GET", "POST"))
    assert router.match("GET", "/a/").status == 404


def test_the_table_has_every_upstream_route() -> None:
    """Section 5.3's routes, plus SSE and request/reply."""
    have = {(r.method, r.template) for r in ROUTES}
    for method, template in [
        ("GET", "/health"),
        ("POST", "/api/messages/{subject}"),
        ("GET", "/api/messages/{subject}"),
        ("GET", "/api/messages/{stream}/consumer/{consumer}"),
        ("GET", "/api/streams"),
        ("GET", "/api/streams/{name}"),
        ("GET", "/api/streams/{name}/subjects"),
        ("GET", "/api/consumers/templates"),
        ("POST", "/api/consumers/{stream}"),
        ("GET", "/api/consumers/{stream}"),
        ("GET", "/api/consumers/{stream}/{consumer}"),
        ("DELETE", "/api/consumers/{stream}/{consumer}"),
        ("GET", "/api/consumers/{stream}/{consumer}/health"),
        ("GET", "/api/consumers/{stream}/{consumer}/messages"),
        ("POST", "/api/consumers/{stream}/{consumer}/reset"),
        ("GET", "/api/consumers/{stream}/{consumer}/metrics/history"),
        ("POST", "/api/proto/protobufmessages/{subject}"),
        ("GET", "/api/proto/protobufmessages/{subject}"),
        ("POST", "/api/proto/protobufmessages/{subject}/user-event"),
        ("POST", "/api/proto/protobufmessages/{subject}/payment-event"),
        ("WS", "/ws/websocketmessages/{subject}"),
        ("WS", "/ws/websocketmessages/{stream}/consumer/{consumer}"),
        ("GET", "/api/stream/{subject}"),
        ("POST", "/api/request/{subject}"),
    ]:
        assert (method, template) in have, (method, template)
    public = {r.template for r in ROUTES if r.public}
    # Health, and static files that hold no data: the docs, the dashboard's page.
    assert public == {
        "/health",
        "/healthz",
        "/readyz",
        "/docs",
        "/docs/{file}",
        "/",
        "/dashboard",
        "/dashboard/{file}",
    }
