"""The `nats-pubsub` command: one subcommand per service; builds settings and runs the service."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path
from typing import Any

import click

from nats_pubsub.bench import bench
from nats_pubsub.cli_options import jetstream_consume_options, jetstream_publish_options
from nats_pubsub.cli_security import security_options
from nats_pubsub.config import (
    MonitorSettings,
    PaymentSettings,
    PublisherSettings,
    ReplaySettings,
    ServerSettings,
    StreamsSettings,
    SubscriberSettings,
    UpSettings,
    load_settings,
)
from nats_pubsub.errors import ConfigError, EmbeddedServerError, PortInUseError
from nats_pubsub.health import check_ready, readyz_url, with_endpoint
from nats_pubsub.lifecycle import run_service
from nats_pubsub.logs import Logger, LogSink, stdout_sink

__all__ = ["main"]


def make_logger(name: str, log_format: str, log_level: str) -> Logger:
    """The service's logger: JSON lines, or console lines when asked or on a terminal."""
    fmt = log_format
    if fmt == "auto":
        fmt = "console" if sys.stdout.isatty() else "json"
    return Logger(name, stdout_sink(), level=log_level, fmt=fmt, color=sys.stdout.isatty())


def _fail(message: str, code: int) -> None:
    click.echo(f"nats-pubsub: {message}", err=True)
    sys.exit(code)


def _build(cls: type[Any], **overrides: Any) -> Any:
    try:
        return load_settings(cls, **overrides)
    except ConfigError as exc:
        _fail(f"configuration error: {exc}", 2)


def _connection_options(func: Callable[..., Any]) -> Callable[..., Any]:
    func = security_options(func)
    func = click.option("--url", help="NATS server URL(s), comma-separated [env NATS_URL]")(func)
    func = click.option("--source", help="Name of this instance [env HOSTNAME]")(func)
    func = click.option(
        "--log-format", type=click.Choice(["json", "console", "auto"]), help="[env LOG_FORMAT]"
    )(func)
    return click.option(
        "--log-level",
        type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False),
        help="[env LOG_LEVEL]",
    )(func)


def _common(
    url: str | None, source: str | None, log_format: str | None, log_level: str | None, **more: Any
) -> dict[str, Any]:
    return {
        "nats_url": url,
        "hostname": source,
        "log_format": log_format,
        "log_level": log_level,
        **more,
    }


def _metrics_options(func: Callable[..., Any]) -> Callable[..., Any]:
    func = click.option(
        "--metrics-port",
        type=int,
        help="Serve /metrics, /healthz, /readyz on this port, 0 = any [env METRICS_PORT]",
    )(func)
    return click.option("--metrics-host", help="[env METRICS_HOST, default 0.0.0.0]")(func)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(version("nats-pubsub"), prog_name="nats-pubsub")
def cli() -> None:
    """NATS publish/subscribe services with structured JSON logs."""


@cli.command()
@_connection_options
@_metrics_options
@jetstream_publish_options
@click.option(
    "--subject", help="Subject, or a template like 'events.{event_type}' [env NATS_SUBJECT]"
)
@click.option(
    "--interval", type=float, help="Seconds between messages, 0 = flat out [env PUBLISH_INTERVAL]"
)
@click.option("--count", type=int, help="Publish this many messages, flush and exit")
@click.option("--event-types", help="Comma-separated event types [env EVENT_TYPES]")
def publish(
    subject: str | None,
    interval: float | None,
    count: int | None,
    event_types: str | None,
    **common: Any,
) -> None:
    """Publish events on an interval."""
    from nats_pubsub.services.publisher import run_publisher

    settings: PublisherSettings = _build(
        PublisherSettings,
        nats_subject=subject,
        publish_interval=interval,
        count=count,
        event_types=event_types,
        **_common(**common),
    )
    log = make_logger("nats-publisher", settings.log_format, settings.log_level)
    main = with_endpoint(
        settings, log, "publisher", lambda stop: run_publisher(settings, log, stop)
    )
    sys.exit(run_service(main, log))


@cli.command()
@_connection_options
@_metrics_options
@jetstream_consume_options
@click.option("--subject", help="Subject to subscribe to; * and > allowed [env NATS_SUBJECT]")
@click.option("--queue-group", help="Share the load with other members [env QUEUE_GROUP]")
@click.option("--count", type=int, help="Exit 0 after this many valid messages")
@click.option(
    "--timeout", type=float, help="Give up after this many seconds (exit 1 if --count not reached)"
)
def subscribe(
    subject: str | None,
    queue_group: str | None,
    count: int | None,
    timeout: float | None,
    **common: Any,
) -> None:
    """Receive, validate and log events."""
    from nats_pubsub.services.subscriber import run_subscriber

    settings: SubscriberSettings = _build(
        SubscriberSettings,
        nats_subject=subject,
        queue_group=queue_group,
        count=count,
        timeout=timeout,
        **_common(**common),
    )
    log = make_logger("nats-subscriber", settings.log_format, settings.log_level)
    main = with_endpoint(
        settings, log, "subscriber", lambda stop: run_subscriber(settings, log, stop)
    )
    sys.exit(run_service(main, log))


@cli.command()
@_connection_options
@_metrics_options
@jetstream_publish_options
@click.option(
    "--interval",
    type=float,
    help="Seconds between transactions, 0 = flat out [env PUBLISH_INTERVAL]",
)
@click.option("--count", type=int, help="Publish this many transactions, flush and exit")
@click.option("--seed", type=int, help="Seed for a reproducible run")
@click.option(
    "--decline-rate",
    type=float,
    help="Decline with this fixed probability (0..1) [default: about one a minute]",
)
def payments(
    interval: float | None,
    count: int | None,
    seed: int | None,
    decline_rate: float | None,
    **common: Any,
) -> None:
    """Publish simulated credit card transactions."""
    from nats_pubsub.services.payments import run_payments

    settings: PaymentSettings = _build(
        PaymentSettings,
        publish_interval=interval,
        count=count,
        seed=seed,
        decline_rate=decline_rate,
        **_common(**common),
    )
    log = make_logger("payment-publisher", settings.log_format, settings.log_level)
    main = with_endpoint(settings, log, "payments", lambda stop: run_payments(settings, log, stop))
    sys.exit(run_service(main, log))


@cli.command()
@_connection_options
@_metrics_options
@jetstream_consume_options
@click.option(
    "--subject", "subjects", multiple=True, help="Subject to watch, repeatable [env NATS_SUBJECT]"
)
@click.option("--count", type=int, help="Exit 0 after this many captured messages")
@click.option(
    "--timeout", type=float, help="Give up after this many seconds (exit 1 if --count not reached)"
)
@click.option("--sample-rate", type=int, help="Log one in N messages (errors always), count all")
@click.option("--errors-only", is_flag=True, default=None, help="Log only ERROR messages")
@click.option(
    "--ignore",
    multiple=True,
    help="Subject not to capture, repeatable (adds to _INBOX.>, $JS.API.>)",
)
@click.option("--max-payload-bytes", type=int, help="Longest payload shown in a record")
def monitor(
    subjects: tuple[str, ...],
    count: int | None,
    timeout: float | None,
    sample_rate: int | None,
    errors_only: bool | None,
    ignore: tuple[str, ...],
    max_payload_bytes: int | None,
    **common: Any,
) -> None:
    """Log every message on the watched subjects, declines and failures as ERROR."""
    from nats_pubsub.services.monitor import run_monitor

    settings: MonitorSettings = _build(
        MonitorSettings,
        subjects=subjects or None,
        count=count,
        timeout=timeout,
        sample_rate=sample_rate,
        errors_only=errors_only,
        ignore=ignore or None,
        max_payload_bytes=max_payload_bytes,
        **_common(**common),
    )
    log = make_logger("message-logger", settings.log_format, settings.log_level)
    main = with_endpoint(settings, log, "monitor", lambda stop: run_monitor(settings, log, stop))
    sys.exit(run_service(main, log))


@cli.command()
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
    from nats_pubsub.services.server import run_server

    settings: ServerSettings = _build(
        ServerSettings, host=host, port=port, http_port=http_port, store_dir=store_dir
    )
    log = make_logger("nats-server", settings.log_format, "INFO")
    try:
        code = run_server(settings, log, cluster=cluster)
    except PortInUseError as exc:
        log.error("Port in use", error=str(exc))
        _fail(str(exc), 2)
    except EmbeddedServerError as exc:
        log.error("NATS server failed to start", error=str(exc))
        _fail(str(exc), 1)
    sys.exit(code)


@cli.command()
@_connection_options
@click.option(
    "--store-dir", type=click.Path(path_type=Path), help="JetStream store [default .data]"
)
@click.option("--http-port", type=int, help="Monitoring port of the embedded server, 0 = off")
def up(store_dir: Path | None, http_port: int | None, **common: Any) -> None:
    """Run the whole local stack: server, publisher and subscriber; Ctrl+C stops it."""
    from nats_pubsub.services.up import run_up

    settings: UpSettings = _build(
        UpSettings, store_dir=store_dir, http_port=http_port, **_common(**common)
    )
    fmt = settings.log_format
    console = fmt == "console" or (fmt == "auto" and sys.stdout.isatty())
    log = make_logger("nats-pubsub-up", settings.log_format, settings.log_level)
    try:
        code = run_service(lambda stop: run_up(settings, log, stop, console), log)
    except PortInUseError as exc:
        _fail(str(exc), 2)
    except EmbeddedServerError as exc:
        _fail(str(exc), 1)
    sys.exit(code)


@cli.command()
@click.option("--url", help="A service's metrics endpoint [default http://127.0.0.1:$METRICS_PORT]")
@click.option("--timeout", type=float, default=3.0, show_default=True, help="Seconds to wait")
def health(url: str | None, timeout: float) -> None:
    """Check a running service's /readyz: exit 0 when ready, else 1 with the reason."""
    port = os.environ.get("METRICS_PORT", "").strip()
    try:
        target = readyz_url(url, int(port) if port else None)
    except ValueError as exc:
        _fail(f"health: {exc}", 2)
    ready, reason = check_ready(target, timeout)
    if not ready:
        _fail(f"not ready: {reason}", 1)
    click.echo(f"ready: {reason}")


def _stderr_logger(name: str, log_format: str, log_level: str) -> Logger:
    """For commands whose stdout is data (replay, streams): records go to stderr."""
    fmt = log_format if log_format != "auto" else ("console" if sys.stderr.isatty() else "json")
    return Logger(name, LogSink(sys.stderr.buffer), level=log_level, fmt=fmt)


@cli.command()
@_connection_options
@click.option("--stream", "stream_name", help="Stream to read [env STREAM_NAME, default PAYMENTS]")
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
    """Replay a stream's history as JSON lines (ephemeral ordered consumer, no state left)."""
    from nats_pubsub.services.replay import run_replay

    settings: ReplaySettings = _build(ReplaySettings, follow=not until_end, **_common(**options))
    log = _stderr_logger("nats-replay", settings.log_format, settings.log_level)
    sys.exit(run_service(lambda stop: run_replay(settings, log, stop), log))


@cli.command()
@_connection_options
@click.option("--json", "as_json", is_flag=True, help="JSON instead of a table")
@click.option("--ensure", is_flag=True, help="First create or update PAYMENTS, EVENTS and DLQ")
@click.option("--replicas", "stream_replicas", type=int, help="Replicas when creating [--ensure]")
def streams(as_json: bool, ensure: bool, **options: Any) -> None:
    """List JetStream streams: subjects, messages, bytes, sequences, consumers."""
    from nats_pubsub.services.streams_admin import run_streams

    settings: StreamsSettings = _build(StreamsSettings, **_common(**options))
    log = _stderr_logger("nats-streams", settings.log_format, settings.log_level)
    code = run_service(
        lambda stop: run_streams(settings, log, stop, as_json=as_json, ensure=ensure), log
    )
    sys.exit(code)


cli.add_command(bench)


def main() -> None:
    """Console-script entry point."""
    cli()
