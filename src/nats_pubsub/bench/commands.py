"""The `nats-pubsub bench` command group: one subcommand per measurement.

Heavy imports happen inside the commands, so the other `nats-pubsub` commands do not pay for them.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

__all__ = ["bench"]

_MODES = {
    "pub": ("ours", "bare", "classic"),
    "sub": ("ours", "bare", "classic"),
    "pubsub": ("ours", "bare", "classic"),
    "latency": ("ours", "classic"),
    "js-pub": ("ours", "fast", "bare", "async"),
    "js-replay": ("ours", "bare"),
}
_MODE_HELP = {
    "pub": "ours: our publisher service; bare: nats-py, prebuilt payloads; classic: stdlib",
    "sub": "ours: our subscriber (or monitor) handler; bare: nats-py, count only; classic: stdlib",
    "pubsub": "both sides in that mode",
    "latency": "the subscriber's path: ours, or classic (stdlib json, fromisoformat, logging)",
    "js-pub": (
        "ours: bounded in-flight ack window; fast: ours with --fast-ingest (acks per batch); "
        "bare: nats-py, one awaited ack at a time; async: nats-py's publish_async, same window"
    ),
    "js-replay": "ours: the replay command's path; bare: a nats-py ordered consumer, count only",
}


@click.group()
def bench() -> None:
    """Measure our services' code paths against bare nats-py (in the spirit of `nats bench`)."""


@contextmanager
def _server_url(url: str | None, embedded: bool) -> Iterator[str]:
    if not embedded:
        yield url or os.environ.get("NATS_URL", "nats://localhost:4222")
        return
    from nats_pubsub.embedded import EmbeddedServer

    with tempfile.TemporaryDirectory() as store, EmbeddedServer(store_dir=Path(store)) as server:
        yield server.url


def _output_options(func: Callable[..., Any]) -> Callable[..., Any]:
    func = click.option("--csv", "as_csv", is_flag=True, help="A CSV header and row")(func)
    func = click.option("--json", "as_json", is_flag=True, help="One JSON object")(func)
    func = click.option(
        "--embedded", is_flag=True, help="Run against a throwaway embedded nats-server"
    )(func)
    return click.option("--url", help="NATS server URL [env NATS_URL]")(func)


def _make(command: str, defaults: dict[str, Any]) -> None:
    @bench.command(name=command, help=f"Benchmark `{command}`. Modes: {_MODE_HELP[command]}.")
    @_output_options
    @click.option("--msgs", type=click.IntRange(1), default=defaults["msgs"], show_default=True)
    @click.option(
        "--size",
        type=click.IntRange(0),
        default=0,
        help="Payload bytes (our events' description is padded) [default: a natural event]",
    )
    @click.option(
        "--clients",
        type=click.IntRange(1),
        default=1,
        show_default=True,
        help="Publishers/subscribers, one process each; results are summed",
    )
    @click.option(
        "--rate",
        type=click.FloatRange(0),
        default=defaults.get("rate", 0.0),
        show_default=True,
        help="Open-loop publish rate in msg/s (0 = flat out)",
    )
    @click.option("--mode", type=click.Choice(_MODES[command]), default="ours", show_default=True)
    @click.option(
        "--service",
        type=click.Choice(["subscriber", "monitor"]),
        default="subscriber",
        show_default=True,
        help="Which consuming service's handler `ours` runs (sub, pubsub)",
    )
    def run(url: str | None, embedded: bool, as_json: bool, as_csv: bool, **load: Any) -> None:
        from nats_pubsub.bench.report import render
        from nats_pubsub.bench.runner import BenchError, BenchRequest, run_bench

        with _server_url(url, embedded) as server_url:
            try:
                summary = run_bench(BenchRequest(command=command, url=server_url, **load))
            except BenchError as exc:
                click.echo(f"nats-pubsub bench: {exc}", err=True)
                sys.exit(1)
        click.echo(render(summary, "json" if as_json else "csv" if as_csv else "text"))

    del run


for _command, _defaults in (
    ("pub", {"msgs": 100_000}),
    ("sub", {"msgs": 100_000}),
    ("pubsub", {"msgs": 100_000}),
    ("latency", {"msgs": 10_000, "rate": 1000.0}),
    ("js-pub", {"msgs": 10_000}),
    ("js-replay", {"msgs": 100_000}),
):
    _make(_command, _defaults)


@bench.command()
@_output_options
@click.option("--settle", type=float, default=1.0, show_default=True, help="Seconds idle first")
def memory(url: str | None, embedded: bool, as_json: bool, as_csv: bool, settle: float) -> None:
    """Resident memory (VmRSS) of an idle `nats-pubsub subscribe` once it has subscribed."""
    import json

    from nats_pubsub.bench.memory import idle_rss_kib

    with _server_url(url, embedded) as server_url:
        kib = idle_rss_kib(server_url, settle)
    row = {"command": "memory", "service": "subscribe", "rss_kib": kib, "rss_mib": kib / 1024}
    if as_json:
        click.echo(json.dumps(row))
    elif as_csv:
        click.echo("command,service,rss_kib,rss_mib\n" + f"memory,subscribe,{kib},{kib / 1024:.1f}")
    else:
        click.echo(f"idle subscriber: {kib / 1024:.1f} MiB resident")
