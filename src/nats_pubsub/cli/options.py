"""Shared CLI pieces: option groups (each option's name is the settings field it overrides),
building settings with one-line errors, and the stderr logger of data-writing commands."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, NoReturn

import click

from nats_pubsub.cli.security_flags import secret_flags_given, secret_warning, security_options
from nats_pubsub.config import load_settings
from nats_pubsub.errors import ConfigError
from nats_pubsub.logs.logger import Logger, LogSink

__all__ = [
    "build_settings",
    "command_flags",
    "common_overrides",
    "connect_timeout_option",
    "connection_options",
    "fail",
    "jetstream_consume_options",
    "jetstream_publish_options",
    "metrics_options",
    "stderr_logger",
]

Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]


def _apply(func: Callable[..., Any], options: list[Decorator]) -> Callable[..., Any]:
    for option in reversed(options):
        func = option(func)
    return func


def _stream_options() -> list[Decorator]:
    return [
        click.option(
            "--jetstream",
            "jetstream",
            is_flag=True,
            default=None,
            help="Use JetStream: durable, acknowledged [env JETSTREAM]",
        ),
        click.option(
            "--stream", "stream_name", help="Stream name (default by subject) [env STREAM_NAME]"
        ),
        click.option(
            "--replicas", "stream_replicas", type=int, help="Stream replicas [env STREAM_REPLICAS]"
        ),
        click.option(
            "--max-age", "stream_max_age", help="Stream max age, e.g. 7d [env STREAM_MAX_AGE]"
        ),
        click.option(
            "--max-bytes", "stream_max_bytes", type=int, help="Stream size [env STREAM_MAX_BYTES]"
        ),
    ]


def jetstream_publish_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """--jetstream and how acked publishing behaves."""
    return _apply(
        func,
        [
            *_stream_options(),
            click.option(
                "--window", "js_window", type=int, help="Publishes awaiting acks [env JS_WINDOW]"
            ),
            click.option(
                "--ack-timeout",
                "js_ack_timeout",
                type=float,
                help="Seconds to wait for an ack before retrying [env JS_ACK_TIMEOUT]",
            ),
            click.option(
                "--give-up-after",
                "js_give_up_after",
                type=float,
                help="Report a message as failed when still unacknowledged after this many "
                "seconds [env JS_GIVE_UP_AFTER; default: retry until acked]",
            ),
            click.option(
                "--fast-ingest",
                "js_fast_ingest",
                is_flag=True,
                default=None,
                help="Publish as a fast-ingest batch, acked every --window messages "
                "(nats-server 2.14+) [env JS_FAST_INGEST]",
            ),
        ],
    )


def jetstream_consume_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """--jetstream and how the durable consumer starts and retries."""
    return _apply(
        func,
        [
            *_stream_options(),
            click.option("--durable", "consumer_name", help="Durable name [env CONSUMER_NAME]"),
            click.option(
                "--replay",
                "replay_history",
                help="Start: all|new|last|last-per-subject|since:<1h or RFC3339>|seq:<n> "
                "[env REPLAY_HISTORY]",
            ),
            click.option(
                "--max-deliver", type=int, help="Deliveries per message [env MAX_DELIVER]"
            ),
            click.option("--ack-wait", type=float, help="Seconds before redelivery [env ACK_WAIT]"),
            click.option(
                "--on-invalid",
                type=click.Choice(["dead-letter", "retry"]),
                help="Invalid messages: dead-letter at once, or retry up to --max-deliver "
                "[env ON_INVALID]",
            ),
        ],
    )


def fail(message: str, code: int) -> NoReturn:
    """Print `nats-pubsub: message` on stderr and exit with `code`."""
    click.echo(f"nats-pubsub: {message}", err=True)
    sys.exit(code)


# Options whose name differs from the settings field they set (see `common_overrides`).
_FIELD_OF = {"url": "nats_url", "source": "hostname"}


def command_flags(command: click.Command) -> dict[str, str]:
    """The settings fields `command` has a flag for: field -> flag (for error messages)."""
    flags = {}
    for param in command.params:
        if isinstance(param, click.Option) and param.name:
            flag = next((opt for opt in param.opts if opt.startswith("--")), param.opts[0])
            flags[_FIELD_OF.get(param.name, param.name)] = flag
    return flags


def build_settings(cls: type[Any], **overrides: Any) -> Any:
    """Settings of `cls` from flags, environment and defaults; exit 2 with the reason if invalid
    (naming the environment variable and, if this command has one, the flag).

    A secret given by flag is taken, with one warning line on stderr (it is readable in `ps`).
    """
    context = click.get_current_context(silent=True)
    flags = command_flags(context.command) if context is not None else None
    try:
        settings = load_settings(cls, flags, **overrides)
    except ConfigError as exc:
        fail(f"configuration error: {exc}", 2)
    secret_flags = secret_flags_given(overrides)
    if secret_flags:
        click.echo(f"nats-pubsub: {secret_warning(secret_flags)}", err=True)
    return settings


def connection_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """--url, --source, --log-format, --log-level and the security flags."""
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


def common_overrides(
    url: str | None, source: str | None, log_format: str | None, log_level: str | None, **more: Any
) -> dict[str, Any]:
    """The settings fields the connection options override."""
    return {
        "nats_url": url,
        "hostname": source,
        "log_format": log_format,
        "log_level": log_level,
        **more,
    }


def connect_timeout_option(func: Callable[..., Any]) -> Callable[..., Any]:
    """--connect-timeout, for one-shot commands: how long to try reaching NATS."""
    return click.option(
        "--connect-timeout",
        type=float,
        help="Give up (exit 1) if NATS is not reachable within this many seconds "
        "[env CONNECT_TIMEOUT, default 5]",
    )(func)


def metrics_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """--metrics-port and --metrics-host."""
    func = click.option(
        "--metrics-port",
        type=int,
        help="Serve /metrics, /healthz, /readyz on this port, 0 = any [env METRICS_PORT]",
    )(func)
    return click.option(
        "--metrics-host", help="Address to serve them on [env METRICS_HOST, default 127.0.0.1]"
    )(func)


def stderr_logger(name: str, log_format: str, log_level: str) -> Logger:
    """For commands whose stdout is data (replay, streams): records go to stderr."""
    fmt = log_format if log_format != "auto" else ("console" if sys.stderr.isatty() else "json")
    return Logger(name, LogSink(sys.stderr.buffer), level=log_level, fmt=fmt)
