"""End to end: health, metrics, docs, request/reply and hostile input against a real gateway."""

from __future__ import annotations

import contextlib

import httpx
import pytest

from nats_pubsub.gateway.routes import ROUTES
from nats_pubsub.server.embedded import EmbeddedServer
from tests.gateway.conftest import CliFactory, Responder, RunningGateway, add_stream, start_gateway
from tests.helpers.fixtures import ServerFactory, free_port

pytestmark = pytest.mark.e2e


def test_health_in_the_upstreams_shape(
    gateway: RunningGateway, nats_server: EmbeddedServer
) -> None:
    """healthy, connected, JetStream available; /healthz and /readyz answer too."""
    body = gateway.http.get("/health").json()
    assert body["status"] == "healthy"
    assert (body["nats_connected"], body["jetstream_available"]) == (True, True)
    assert body["nats_url"] == nats_server.url
    assert gateway.http.get("/healthz").status_code == 200
    ready = gateway.http.get("/readyz")
    assert (ready.status_code, ready.json()["ready"]) == (200, True)


def test_not_ready_until_nats_is_up(run_cli: CliFactory, start_server: ServerFactory) -> None:
    """Started before its server: it listens at once, /readyz is 503 with the reason, routes
    that need NATS are 503 JSON; once the server is up it connects by itself."""
    port = free_port()
    gw = start_gateway(run_cli, f"nats://127.0.0.1:{port}", connected=False)
    ready = gw.http.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["reason"] == "starting: not connected to NATS yet"
    health = gw.http.get("/health")
    assert (health.status_code, health.json()["status"]) == (200, "unhealthy")
    streams = gw.http.get("/api/streams")
    assert streams.status_code == 503
    assert "not connected to NATS" in streams.json()["error"]
    start_server(port=port)
    gw.proc.logs.wait_for("NATS Gateway connected")
    assert gw.http.get("/readyz").status_code == 200


def test_request_reply(gateway: RunningGateway, nats_server: EmbeddedServer) -> None:
    """The reply's payload comes back; no responders is 503; no reply in time is 504."""
    with Responder(nats_server.url, "svc.echo", b"pong"):
        answer = gateway.http.post("/api/request/svc.echo", content=b"ping")
        assert (answer.status_code, answer.content) == (200, b"pong|ping")
        assert answer.headers["content-type"] == "application/octet-stream"
    nobody = gateway.http.post("/api/request/svc.nobody", content=b"x", params={"timeout": 1})
    assert nobody.status_code == 503
    assert "no responders" in nobody.json()["error"]
    assert gateway.http.post("/api/request/svc.x", params={"timeout": 0}).status_code == 400


def test_request_timeout_is_504(gateway: RunningGateway, nats_server: EmbeddedServer) -> None:
    """A subscriber that never answers: 504 after the timeout."""
    with Responder(nats_server.url, "svc.silent", None):
        answer = gateway.http.post("/api/request/svc.silent", params={"timeout": 0.5})
    assert answer.status_code == 504
    assert "no reply" in answer.json()["error"]


def test_metrics_count_requests_by_route_and_status(gateway: RunningGateway) -> None:
    """Bounded labels: the route template, not the path."""
    gateway.http.get("/api/streams/A")
    gateway.http.get("/api/streams/B")
    text = gateway.http.get("/metrics").text
    line = (
        'nats_pubsub_gateway_requests_total{method="GET",route="/api/streams/{name}",'
        'service="gateway",status="404"} 2.0'
    )
    assert line in text
    assert "nats_pubsub_gateway_request_duration_seconds_bucket" in text
    assert 'nats_pubsub_connected{service="gateway"} 1.0' in text


def test_docs_and_openapi(gateway: RunningGateway) -> None:
    """/docs is served with its assets (no CDN); the document lists every public route."""
    page = gateway.http.get("/docs")
    assert page.status_code == 200
    assert "/docs/swagger-ui-bundle.js" in page.text
    assert "https://" not in page.text
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css"):
        assert gateway.http.get(f"/docs/{asset}").status_code == 200
    assert gateway.http.get("/docs/../../etc/passwd").status_code == 404
    document = gateway.http.get("/openapi.json").json()
    documented = set(document["paths"])
    assert {r.template for r in ROUTES if not r.hidden} == documented
    publish = document["paths"]["/api/messages/{subject}"]["post"]
    assert publish["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/PublishRequest"
    )
    assert "PublishResponse" in document["components"]["schemas"]


def test_the_index_lists_the_routes(gateway: RunningGateway) -> None:
    """`/api`; `/` is the dashboard's page."""
    body = gateway.http.get("/api").json()
    assert body["name"] == "NATS HTTP Gateway"
    assert "/api/messages/{subject}" in body["endpoints"]
    assert "/api/replay/{stream}" in body["endpoints"]
    assert gateway.http.get("/").headers["content-type"].startswith("text/html")


HOSTILE = [
    ("POST", "/api/messages/events.x", b"{not json", 400),
    ("POST", "/api/messages/events.x", b'{"message_id": 5}', 400),
    ("POST", "/api/messages/events.x", b'{"data": 1} trailing', 400),
    ("POST", "/api/messages/events.x", b"\xff\xfe\x00", 400),
    ("POST", "/api/messages/events.x", b"[1, 2]", 400),
    ("POST", "/api/messages/a..b", b"{}", 400),
    ("POST", "/api/messages/events.*", b"{}", 400),
    ("POST", "/api/messages/events.>", b"{}", 400),
    ("POST", "/api/messages/with space", b"{}", 400),
    ("GET", "/api/messages/a..b", b"", 400),
    ("GET", "/api/messages/>.x", b"", 400),
    ("GET", "/api/messages/events.x?limit=1e9", b"", 400),
    ("GET", "/api/streams/bad.name", b"", 400),
    ("GET", "/api/consumers/EVENTS/bad*name", b"", 400),
    ("POST", "/api/consumers/EVENTS", b"null", 400),
    ("POST", "/api/consumers/EVENTS", b'{"name": ["x"]}', 400),
    ("POST", "/api/consumers/EVENTS/c/reset", b"{]", 400),
    ("GET", "/no/such/route", b"", 404),
    ("GET", "/api/messages", b"", 404),
    ("PUT", "/api/streams", b"", 405),
    ("DELETE", "/api/messages/events.x", b"", 405),
    ("GET", "/ws/websocketmessages/events.x", b"", 400),
    ("POST", "/api/request/events.*", b"", 400),
    ("POST", "/api/request/x?timeout=nan", b"", 400),
]


def test_hostile_input_is_4xx_json_and_the_gateway_keeps_serving(
    gateway: RunningGateway, nats_server: EmbeddedServer
) -> None:
    """Every bad request gets a 4xx with a JSON error, never a 500 or a traceback."""
    add_stream(nats_server.url, "EVENTS", ["events.>"])
    for method, path, body, status in HOSTILE:
        answer = gateway.http.request(method, path, content=body)
        assert answer.status_code == status, (method, path, body, answer.text)
        assert isinstance(answer.json()["error"], str), (method, path)
        assert "Traceback" not in answer.text
    huge = gateway.http.post("/api/messages/events.x", content=b"x" * (1024 * 1024 + 1))
    assert huge.status_code == 413
    assert "over the limit" in huge.json()["error"]
    assert gateway.http.post("/api/messages/events.x", json={"data": 1}).status_code == 200
    assert not gateway.proc.logs.where("Request failed")
    assert "Traceback" not in gateway.proc.output()


def test_a_body_streamed_past_the_limit_is_413(gateway: RunningGateway) -> None:
    """Without a Content-Length (chunked), the cap still holds."""

    def chunks():  # type: ignore[no-untyped-def]
        for _ in range(20):
            yield b"y" * 65536

    answer = gateway.http.post("/api/messages/events.x", content=chunks())
    assert answer.status_code == 413


def test_the_wrong_scheme_on_the_port_does_not_hurt(gateway: RunningGateway) -> None:
    """Garbage on the socket: the connection is refused, the gateway keeps serving."""
    import socket

    host, port = gateway.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port))) as sock:
        sock.sendall(b"\x16\x03\x01garbage that is not HTTP\r\n\r\n")
        sock.settimeout(5)
        with contextlib.suppress(TimeoutError, ConnectionResetError):
            sock.recv(1024)
    assert gateway.http.get("/healthz").status_code == 200
    with pytest.raises(httpx.HTTPError):
        httpx.get(gateway.url.replace("http://", "https://") + "/healthz", verify=False, timeout=5)
    assert gateway.http.get("/healthz").status_code == 200
