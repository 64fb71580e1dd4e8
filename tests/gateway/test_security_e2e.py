"""End to end: the gateway's bearer token, CORS, TLS and body limit, on a real process."""

from __future__ import annotations

import ssl
from pathlib import Path

import httpx
import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from nats_pubsub.server.embedded import EmbeddedServer
from tests.gateway.conftest import CliFactory, add_stream, start_gateway
from tests.helpers.pki import TestCA

pytestmark = pytest.mark.e2e

TOKEN = "s3cret-gateway-token"


def test_a_token_guards_every_route_but_health(
    run_cli: CliFactory, nats_server: EmbeddedServer
) -> None:
    """401 with a JSON error and a Bearer challenge without it or with a wrong one; health
    probes and static files (the docs, the dashboard's page) stay open; `?access_token=` works
    where headers cannot be set; never logged."""
    add_stream(nats_server.url, "EVENTS", ["events.>"])
    gw = start_gateway(run_cli, nats_server.url, env={"GATEWAY_TOKEN": TOKEN})
    for path in ("/api/streams", "/metrics", "/openapi.json", "/api/messages/events.x", "/api"):
        plain = gw.http.get(path)
        assert plain.status_code == 401, path
        assert plain.headers["www-authenticate"].startswith("Bearer")
        assert "bearer token" in plain.json()["error"]
        wrong = gw.http.get(path, headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
    good = {"Authorization": f"Bearer {TOKEN}"}
    assert gw.http.get("/api/streams", headers=good).status_code == 200
    assert gw.http.get("/api/streams", params={"access_token": TOKEN}).status_code == 200
    posted = gw.http.post("/api/messages/events.t", json={"data": 1}, headers=good)
    assert posted.status_code == 200
    for path in ("/health", "/healthz", "/readyz", "/docs", "/docs/swagger-ui.css", "/"):
        assert gw.http.get(path).status_code == 200, path  # health, static docs, the page
    ws_url = gw.url.replace("http://", "ws://") + "/ws/websocketmessages/events.>"
    with pytest.raises(InvalidStatus):
        connect(ws_url, open_timeout=10)
    with connect(f"{ws_url}?access_token={TOKEN}", open_timeout=10) as ws:
        assert ws.recv(timeout=10)
    assert gw.http.get("/api/stream/events.>").status_code == 401
    assert TOKEN not in gw.proc.output()


def test_the_token_from_a_file(
    run_cli: CliFactory, nats_server: EmbeddedServer, tmp_path: Path
) -> None:
    """--bearer-token-file: the file's content, white space trimmed."""
    token_file = tmp_path / "token"
    token_file.write_text(f"{TOKEN}\n")
    gw = start_gateway(run_cli, nats_server.url, "--bearer-token-file", str(token_file))
    assert gw.http.get("/api/streams").status_code == 401
    assert (
        gw.http.get("/api/streams", headers={"Authorization": f"bearer {TOKEN}"}).status_code == 200
    )


def test_an_empty_token_file_is_a_configuration_error(
    run_cli: CliFactory, nats_server: EmbeddedServer, tmp_path: Path
) -> None:
    """One line, exit 2."""
    token_file = tmp_path / "token"
    token_file.write_text("\n")
    proc = run_cli("gateway", "--bearer-token-file", str(token_file), url=nats_server.url)
    assert proc.wait(30) == 2
    assert "is empty" in proc.output()
    assert "Traceback" not in proc.output()


def test_cors_is_off_unless_origins_are_listed(
    run_cli: CliFactory, nats_server: EmbeddedServer
) -> None:
    """Without GATEWAY_CORS_ORIGINS no Access-Control header and preflights are refused."""
    gw = start_gateway(run_cli, nats_server.url)
    origin = {"Origin": "http://app.example"}
    assert "access-control-allow-origin" not in gw.http.get("/health", headers=origin).headers
    preflight = gw.http.options("/api/streams", headers=origin)
    assert preflight.status_code == 403


def test_cors_for_listed_origins(run_cli: CliFactory, nats_server: EmbeddedServer) -> None:
    """A listed origin gets the headers and its preflight; another origin gets neither."""
    env = {"GATEWAY_CORS_ORIGINS": "http://app.example, http://other.example"}
    gw = start_gateway(run_cli, nats_server.url, env=env)
    allowed = {"Origin": "http://app.example"}
    answer = gw.http.get("/api/streams", headers=allowed)
    assert answer.headers["access-control-allow-origin"] == "http://app.example"
    assert answer.headers["vary"] == "Origin"
    preflight = gw.http.options(
        "/api/messages/events.x",
        headers={**allowed, "Access-Control-Request-Method": "POST"},
    )
    assert preflight.status_code == 204
    assert "POST" in preflight.headers["access-control-allow-methods"]
    assert "Authorization" in preflight.headers["access-control-allow-headers"]
    stranger = {"Origin": "http://evil.example"}
    assert "access-control-allow-origin" not in gw.http.get("/health", headers=stranger).headers
    assert gw.http.options("/api/streams", headers=stranger).status_code == 403


def test_https_with_a_certificate(
    run_cli: CliFactory, nats_server: EmbeddedServer, tmp_path: Path
) -> None:
    """GATEWAY_TLS_CERT and GATEWAY_TLS_KEY: HTTPS, trusted with the CA."""
    ca = TestCA(tmp_path / "pki")
    cert, key = ca.issue("gateway", server=True)
    trust = ssl.create_default_context(cafile=str(ca.cert_file))
    gw = start_gateway(
        run_cli,
        nats_server.url,
        "--tls-cert",
        str(cert),
        "--tls-key",
        str(key),
        scheme="https",
        verify=trust,
    )
    assert gw.http.get("/readyz").status_code == 200
    with pytest.raises(httpx.HTTPError):
        httpx.get(gw.url.replace("https://", "http://") + "/readyz", timeout=5)
    assert gw.http.get("/readyz").status_code == 200


def test_a_cors_origin_that_is_not_one_is_a_configuration_error(
    run_cli: CliFactory, nats_server: EmbeddedServer
) -> None:
    """`app.example` (no scheme) is refused before anything starts: one line, exit 2."""
    proc = run_cli(
        "gateway",
        url=nats_server.url,
        env={"GATEWAY_CORS_ORIGINS": "http://ok.example,app.example"},
    )
    assert proc.wait(30) == 2
    assert "GATEWAY_CORS_ORIGINS / --cors-origins" in proc.output()
    assert "'app.example' is not an origin" in proc.output()
