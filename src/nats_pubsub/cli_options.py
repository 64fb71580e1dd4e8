"""Shared CLI option groups; each option's name is the settings field it overrides."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

__all__ = ["jetstream_consume_options", "jetstream_publish_options"]

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
