"""The `nats-pubsub gateway` command: NATS over HTTP, WebSocket and Server-Sent Events."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from nats_pubsub.cli.options import build_settings, common_overrides, connection_options
from nats_pubsub.config import GatewaySettings
from nats_pubsub.launch import start

__all__ = ["gateway"]

_FILE = click.Path(path_type=Path)


@click.command()
@connection_options
@click.option("--host", "gateway_host", help="Address to listen on [env GATEWAY_HOST, 127.0.0.1]")
@click.option("--port", "gateway_port", type=int, help="Port, 0 = any [env GATEWAY_PORT, 8080]")
@click.option(
    "--bearer-token-file",
    "gateway_token_file",
    type=_FILE,
    help="Require the bearer token in this file [env GATEWAY_TOKEN_FILE, or GATEWAY_TOKEN]",
)
@click.option(
    "--cors-origins",
    "gateway_cors_origins",
    help="Origins browsers may call from, comma-separated, * = any [env GATEWAY_CORS_ORIGINS]",
)
@click.option(
    "--max-streams",
    "gateway_max_streams",
    type=int,
    help="Open WebSocket and SSE streams allowed [env GATEWAY_MAX_STREAMS, 100]",
)
@click.option(
    "--client-queue",
    "gateway_client_queue",
    type=int,
    help="Messages queued per live client before it lags [env GATEWAY_CLIENT_QUEUE, 1000]",
)
@click.option(
    "--tls-cert", "gateway_tls_cert", type=_FILE, help="HTTPS certificate [env GATEWAY_TLS_CERT]"
)
@click.option(
    "--tls-key", "gateway_tls_key", type=_FILE, help="Its private key [env GATEWAY_TLS_KEY]"
)
@click.option(
    "--dashboard",
    "gateway_dashboard",
    type=click.Choice(["on-demand", "always", "off"]),
    help="Count the bus for the dashboard while a page is open, always, or never "
    "[env GATEWAY_DASHBOARD, on-demand]",
)
def gateway(**options: Any) -> None:
    """Serve NATS over HTTP: publish, fetch, streams, consumers, protobuf, WebSocket, SSE."""
    settings: GatewaySettings = build_settings(GatewaySettings, **common_overrides(**options))
    may_exec = bool((click.get_current_context().obj or {}).get("may_exec"))
    sys.exit(start("gateway", settings, may_exec=may_exec))
