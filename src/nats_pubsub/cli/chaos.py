"""`nats-pubsub chaos`: the soak of killed, frozen and restarted nodes and services."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from nats_pubsub.cli.options import build_settings, stderr_logger
from nats_pubsub.config.chaos import ChaosSettings
from nats_pubsub.lifecycle import run_service

__all__ = ["chaos"]


@click.command()
@click.option("--duration", type=float, help="Seconds of faults [env CHAOS_DURATION, default 300]")
@click.option("--seed", type=int, help="Seed of the fault schedule [default: a random one]")
@click.option(
    "--work-dir",
    type=click.Path(path_type=Path),
    help="Keep the nodes' stores, the services' records and the streams' contents here "
    "[env CHAOS_WORK_DIR; default: a temporary directory, kept only if a check fails]",
)
@click.option(
    "--partition",
    is_flag=True,
    default=None,
    help="Also cut nodes off from each other (root only: each node in its own network "
    "namespace, set up and removed by the command; needs iproute2) [env CHAOS_PARTITION]",
)
@click.option("--json", "as_json", is_flag=True, help="The report as JSON")
def chaos(as_json: bool, **options: object) -> None:
    """Soak a 3-node JetStream cluster and the services in faults, then check nothing was lost.

    Starts 3 nats-server nodes and the services (JetStream publishers, fast ingest, payments,
    two subscribers sharing a durable consumer, a monitor, a core NATS pair) as processes;
    kills, freezes and restarts nodes, leaders and services from the seed's schedule; then
    checks every acked message is stored once and processed, every duplicate delivery was
    reported, and core NATS reported every loss. Exit 0 when all held, 1 if not. The report
    goes to stdout, the soak's own records (LOG_FORMAT, LOG_LEVEL) to stderr.
    """
    from nats_pubsub.chaos.runner import run_chaos

    settings: ChaosSettings = build_settings(ChaosSettings, **options)
    log = stderr_logger("nats-pubsub-chaos", settings.log_format, settings.log_level)
    sys.exit(run_service(lambda stop: run_chaos(settings, log, stop, as_json=as_json), log))
