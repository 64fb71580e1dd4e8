"""The `nats-pubsub` command group and its service commands (publish, subscribe, payments,
monitor): each builds its settings once and runs the service; the rest are in admin.py."""

from __future__ import annotations

import sys
from typing import Any, NoReturn

import click

from nats_pubsub.bench import bench
from nats_pubsub.cli.admin import ADMIN_COMMANDS
from nats_pubsub.cli.chaos import chaos
from nats_pubsub.cli.gateway import gateway
from nats_pubsub.cli.options import (
    build_settings,
    common_overrides,
    connection_options,
    jetstream_consume_options,
    jetstream_publish_options,
    metrics_options,
)
from nats_pubsub.config import (
    MonitorSettings,
    PaymentSettings,
    PublisherSettings,
    SubscriberSettings,
)
from nats_pubsub.launch import start

__all__ = ["main"]


def _serve(command: str, settings: Any) -> NoReturn:
    """Run a long-lived service; started from `main()`, in a lean process exec'd in our place."""
    may_exec = bool((click.get_current_context().obj or {}).get("may_exec"))
    sys.exit(start(command, settings, may_exec=may_exec))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="nats-pubsub", prog_name="nats-pubsub")  # looked up lazily
def cli() -> None:
    """NATS publish/subscribe services with structured JSON logs."""


@cli.command()
@connection_options
@metrics_options
@jetstream_publish_options
@click.option(
    "--subject",
    "nats_subject",
    help="Subject, or a template like 'events.{event_type}' [env NATS_SUBJECT]",
)
@click.option(
    "--interval",
    "publish_interval",
    type=float,
    help="Seconds between messages, 0 = flat out [env PUBLISH_INTERVAL]",
)
@click.option("--count", type=int, help="Publish this many messages, flush and exit")
@click.option("--event-types", help="Comma-separated event types [env EVENT_TYPES]")
def publish(
    nats_subject: str | None,
    publish_interval: float | None,
    count: int | None,
    event_types: str | None,
    **common: Any,
) -> None:
    """Publish events on an interval."""
    settings: PublisherSettings = build_settings(
        PublisherSettings,
        nats_subject=nats_subject,
        publish_interval=publish_interval,
        count=count,
        event_types=event_types,
        **common_overrides(**common),
    )
    _serve("publish", settings)


@cli.command()
@connection_options
@metrics_options
@jetstream_consume_options
@click.option(
    "--subject", "nats_subject", help="Subject to subscribe to; * and > allowed [env NATS_SUBJECT]"
)
@click.option("--queue-group", help="Share the load with other members [env QUEUE_GROUP]")
@click.option("--count", type=int, help="Exit 0 after this many valid messages")
@click.option(
    "--timeout", type=float, help="Give up after this many seconds (exit 1 if --count not reached)"
)
def subscribe(
    nats_subject: str | None,
    queue_group: str | None,
    count: int | None,
    timeout: float | None,
    **common: Any,
) -> None:
    """Receive, validate and log events."""
    settings: SubscriberSettings = build_settings(
        SubscriberSettings,
        nats_subject=nats_subject,
        queue_group=queue_group,
        count=count,
        timeout=timeout,
        **common_overrides(**common),
    )
    _serve("subscribe", settings)


@cli.command()
@connection_options
@metrics_options
@jetstream_publish_options
@click.option(
    "--interval",
    "publish_interval",
    type=float,
    help="Seconds between transactions, 0 = flat out [env PUBLISH_INTERVAL]",
)
@click.option("--count", type=int, help="Publish this many transactions, flush and exit")
@click.option("--seed", type=int, help="Seed for a reproducible run")
@click.option(
    "--decline-rate",
    type=float,
    help=(
        "Decline with this fixed probability (0..1) [default: 0.13 at intervals under 1 s,"
        " else about one a minute]"
    ),
)
def payments(
    publish_interval: float | None,
    count: int | None,
    seed: int | None,
    decline_rate: float | None,
    **common: Any,
) -> None:
    """Publish simulated credit card transactions."""
    settings: PaymentSettings = build_settings(
        PaymentSettings,
        publish_interval=publish_interval,
        count=count,
        seed=seed,
        decline_rate=decline_rate,
        **common_overrides(**common),
    )
    _serve("payments", settings)


@cli.command()
@connection_options
@metrics_options
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
    help="Subject not to capture, repeatable (adds to _INBOX.>, $JS.API.>, $SRV.>)",
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
    settings: MonitorSettings = build_settings(
        MonitorSettings,
        subjects=subjects or None,
        count=count,
        timeout=timeout,
        sample_rate=sample_rate,
        errors_only=errors_only,
        ignore=ignore or None,
        max_payload_bytes=max_payload_bytes,
        **common_overrides(**common),
    )
    _serve("monitor", settings)


for command in ADMIN_COMMANDS:
    cli.add_command(command)
cli.add_command(gateway)
cli.add_command(bench)
cli.add_command(chaos)


def main() -> None:
    """Console-script entry point (services may replace this process: see `launch`)."""
    cli(obj={"may_exec": True})
