"""The `nats-pubsub` commands around the services: server, up, health, replay, streams,
services."""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path
from typing import Any

import click

from nats_pubsub.cli.options import (
    build_settings,
    common_overrides,
    connect_timeout_option,
    connection_options,
    fail,
    stderr_logger,
)
from nats_pubsub.config import (
    ReplaySettings,
    ServerSettings,
    ServicesSettings,
    StreamsSettings,
    UpSettings,
)
from nats_pubsub.errors import ConfigError, EmbeddedServerError, PortInUseError
from nats_pubsub.launch import is_console, make_logger
from nats_pubsub.lifecycle import run_service
from nats_pubsub.observability.health import check_ready, readyz_url

__all__ = ["ADMIN_COMMANDS"]


@click.command()
@click.option("--host", help="Address to listen on [env NATS_SERVER_HOST, default 127.0.0.1]")
@click.option("--port", type=int, help="Client port, -1 for a free one [default 4222]")
@click.option("--http-port", type=int, help="Monitoring port, 0 = off [default 8222]")
@click.option(
    "--store-dir", type=click.Path(path_type=Path), help="JetStream store [default .data]"
)
@click.option(
    "--cluster",
    type=click.IntRange(1, 9),
    help="Run N routed nodes (ports counted up from --port/--http-port, store dir each)",
)
def server(
    host: str | None,
    port: int | None,
    http_port: int | None,
    store_dir: Path | None,
    cluster: int | None,
) -> None:
    """Run the bundled nats-server with JetStream (or a local cluster of them)."""
    from nats_pubsub.services.nats_server import run_server

    settings: ServerSettings = build_settings(
        ServerSettings, host=host, port=port, http_port=http_port, store_dir=store_dir
    )
    log = make_logger("nats-server", settings.log_format, "INFO")
    # The error goes to stderr as one line; as a record too when the logs are JSON for a
    # collector, not when they are console lines on the same terminal (said once is enough).
    recorded = not is_console(settings.log_format)
    try:
        code = run_server(settings, log, cluster=cluster)
    except PortInUseError as exc:
        if recorded:
            log.error("Port in use", error=str(exc))
        fail(str(exc), 2)
    except EmbeddedServerError as exc:
        if recorded:
            log.error("NATS server failed to start", error=str(exc))
        fail(str(exc), 1)
    sys.exit(code)


@click.command()
@connection_options
@click.option(
    "--store-dir",
    type=click.Path(path_type=Path),
    help="JetStream store of the embedded server [env STORE_DIR, default .data]",
)
@click.option(
    "--http-port",
    type=int,
    help="Monitoring port of the embedded server, 0 = off [env HTTP_PORT, default 8222]",
)
@click.option(
    "--log-file",
    type=click.Path(path_type=Path),
    help="Also append every record to this file as JSON lines, to the end [env LOG_FILE]",
)
@click.option(
    "--gateway-port",
    type=int,
    help="The HTTP gateway's port, 0 = any free one [env GATEWAY_PORT, default 8080]",
)
def up(
    store_dir: Path | None,
    http_port: int | None,
    log_file: Path | None,
    gateway_port: int | None,
    **common: Any,
) -> None:
    """Run the whole local stack in one terminal; Ctrl+C stops it.

    Starts a nats-server with JetStream (unless one answers at --url), the subscriber
    (subscribe) and the message logger (monitor, every subject), then the event publisher
    (publish), the payment publisher (payments) and the HTTP gateway (gateway).
    """
    from nats_pubsub.services.up import copying_logger, run_up

    settings: UpSettings = build_settings(
        UpSettings,
        store_dir=store_dir,
        http_port=http_port,
        log_file=log_file,
        gateway_port=gateway_port,
        **common_overrides(**common),
    )
    console = is_console(settings.log_format)
    with contextlib.ExitStack() as closing:
        copy = None
        if settings.log_file is not None:
            try:
                copy = closing.enter_context(open(settings.log_file, "ab"))
            except OSError as exc:
                fail(f"LOG_FILE / --log-file: cannot write {settings.log_file}: {exc}", 2)
        log = (
            make_logger("nats-pubsub-up", settings.log_format, settings.log_level)
            if copy is None
            else copying_logger("nats-pubsub-up", settings.log_level, console, copy)
        )
        try:
            code = run_service(lambda stop: run_up(settings, log, stop, console, copy), log)
        except ConfigError as exc:  # a service's settings (from the environment) are invalid
            fail(f"configuration error: {exc}", 2)
        except PortInUseError as exc:
            fail(str(exc), 2)
        except EmbeddedServerError as exc:
            fail(str(exc), 1)
    sys.exit(code)


@click.command()
@click.option("--url", help="A service's metrics endpoint [default http://127.0.0.1:$METRICS_PORT]")
@click.option("--timeout", type=float, default=3.0, show_default=True, help="Seconds to wait")
def health(url: str | None, timeout: float) -> None:
    """Check a running service's /readyz: exit 0 when ready, else 1 with the reason."""
    port = os.environ.get("METRICS_PORT", "").strip()
    try:
        target = readyz_url(url, int(port) if port else None)
    except ValueError as exc:
        fail(f"health: {exc}", 2)
    ready, reason = check_ready(target, timeout)
    if not ready:
        fail(f"not ready: {reason}", 1)
    click.echo(f"ready: {reason}")


@click.command()
@connection_options
@connect_timeout_option
@click.option(
    "--stream",
    "stream_name",
    help="Stream to read [env STREAM_NAME; default: the stream holding --subject, "
    "else the only stream there is]",
)
@click.option("--subject", "filter_subject", help="Only messages on this subject (wildcards ok)")
@click.option("--since", help="Start at a time: a duration back (1h, 30m) or an RFC3339 time")
@click.option("--start-seq", type=int, help="Start at this stream sequence")
@click.option("--last", type=int, help="Only the last N (matching) messages")
@click.option(
    "--until-end/--follow",
    "until_end",
    default=True,
    help="Stop at the end of the history (default), or keep following new messages",
)
@click.option("--speed", type=click.Choice(["instant", "original"]), help="Pace of the replay")
@click.option("--output", type=click.Path(path_type=Path), help="Write JSON lines here, not stdout")
def replay(until_end: bool, **options: Any) -> None:
    """Replay a stream's history as JSON lines, in order (an ephemeral consumer, no state left)."""
    from nats_pubsub.services.replay import run_replay

    settings: ReplaySettings = build_settings(
        ReplaySettings, follow=not until_end, **common_overrides(**options)
    )
    log = stderr_logger("nats-replay", settings.log_format, settings.log_level)
    sys.exit(run_service(lambda stop: run_replay(settings, log, stop), log))


@click.command()
@connection_options
@connect_timeout_option
@click.option("--json", "as_json", is_flag=True, help="JSON instead of a table")
@click.option("--ensure", is_flag=True, help="First create or update PAYMENTS, EVENTS and DLQ")
@click.option("--replicas", "stream_replicas", type=int, help="Replicas when creating [--ensure]")
def streams(as_json: bool, ensure: bool, **options: Any) -> None:
    """List JetStream streams: subjects, messages, bytes, sequences, consumers."""
    from nats_pubsub.services.streams_admin import run_streams

    settings: StreamsSettings = build_settings(StreamsSettings, **common_overrides(**options))
    log = stderr_logger("nats-streams", settings.log_format, settings.log_level)
    code = run_service(
        lambda stop: run_streams(settings, log, stop, as_json=as_json, ensure=ensure), log
    )
    sys.exit(code)


@click.command()
@connection_options
@connect_timeout_option
@click.option("--json", "as_json", is_flag=True, help="JSON instead of a table")
@click.option("--wait", type=float, help="Seconds to collect answers [default 1]")
def services(as_json: bool, **options: Any) -> None:
    """List the services answering the NATS service API ($SRV.STATS): host, uptime, counters."""
    from nats_pubsub.services.discovery import run_services

    settings: ServicesSettings = build_settings(ServicesSettings, **common_overrides(**options))
    log = stderr_logger("nats-services", settings.log_format, settings.log_level)
    sys.exit(run_service(lambda stop: run_services(settings, log, stop, as_json=as_json), log))


ADMIN_COMMANDS = (server, up, health, replay, streams, services)
