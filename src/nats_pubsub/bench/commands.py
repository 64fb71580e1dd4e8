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


def _check_reachable(url: str, seconds: float) -> None:
    """Exit 1 with one line naming `url` when NATS does not answer there within `seconds`."""
    import asyncio

    from nats_pubsub.bench.protocol import devnull_logger
    from nats_pubsub.config import StreamsSettings, load_settings
    from nats_pubsub.config.client import connect_options
    from nats_pubsub.connection.connect import ConnectLimit, connect
    from nats_pubsub.errors import ConfigError, NatsError

    try:
        settings = load_settings(
            StreamsSettings,
            {"nats_url": "--url", "connect_timeout": "--connect-timeout"},
            nats_url=url,
            connect_timeout=seconds,
        )
    except ConfigError as exc:
        click.echo(f"nats-pubsub bench: configuration error: {exc}", err=True)
        sys.exit(2)
    log, _ = devnull_logger("bench")

    async def probe() -> None:
        limit = ConnectLimit(settings.connect_timeout, "--connect-timeout")
        options = connect_options(settings)
        conn = await connect(options, name="bench-probe", log=log, limit=limit, quiet=True)
        await conn.close()

    try:
        asyncio.run(probe())
    except NatsError as exc:
        click.echo(f"nats-pubsub bench: {exc}", err=True)
        sys.exit(1)


@contextmanager
def _server_url(url: str | None, embedded: bool, connect_timeout: float) -> Iterator[str]:
    if not embedded:
        target = url or os.environ.get("NATS_URL", "nats://localhost:4222")
        _check_reachable(target, connect_timeout)
        yield target
        return
    from nats_pubsub.server.embedded import EmbeddedServer

    with tempfile.TemporaryDirectory() as store, EmbeddedServer(store_dir=Path(store)) as server:
        yield server.url


def _output_options(func: Callable[..., Any]) -> Callable[..., Any]:
    func = click.option(
        "--connect-timeout",
        type=click.FloatRange(min=0, min_open=True),
        default=5.0,
        show_default=True,
        help="Give up (exit 1) if NATS is not reachable within this many seconds",
    )(func)
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
    def run(
        url: str | None,
        embedded: bool,
        as_json: bool,
        as_csv: bool,
        connect_timeout: float,
        **load: Any,
    ) -> None:
        from nats_pubsub.bench.report import render
        from nats_pubsub.bench.runner import BenchError, BenchRequest, run_bench

        with _server_url(url, embedded, connect_timeout) as server_url:
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


@bench.command(name="gateway")
@_output_options
@click.option(
    "--mode",
    type=click.Choice(["ours", "classic", "fanout"]),
    default="ours",
    show_default=True,
    help="ours: HTTP publish through our gateway; classic: FastAPI + pydantic + one awaited "
    "js.publish per request; fanout: WebSocket clients on one subject, one of them stalled",
)
@click.option("--clients", type=click.IntRange(1), default=64, show_default=True,
              help="Keep-alive HTTP connections (ours, classic)")  # fmt: skip
@click.option("--seconds", type=click.FloatRange(1), default=5.0, show_default=True)
@click.option("--ws-clients", type=click.IntRange(1), default=50, show_default=True,
              help="WebSocket clients (fanout)")  # fmt: skip
@click.option("--rate", type=click.FloatRange(1), default=2000.0, show_default=True,
              help="Messages per second published (fanout)")  # fmt: skip
def gateway_command(
    url: str | None,
    embedded: bool,
    as_json: bool,
    as_csv: bool,
    connect_timeout: float,
    mode: str,
    clients: int,
    seconds: float,
    ws_clients: int,
    rate: float,
) -> None:
    """The HTTP gateway: publish rate against the classic handler; WebSocket fan-out."""
    from nats_pubsub.bench.gateway import gateway_bench
    from nats_pubsub.bench.report import render
    from nats_pubsub.errors import NatsPubsubError

    with _server_url(url, embedded, connect_timeout) as server_url:
        try:
            summary = gateway_bench(
                server_url, mode, connections=clients, seconds=seconds,
                fan_clients=ws_clients, fan_rate=rate,
            )  # fmt: skip
        except (RuntimeError, OSError, NatsPubsubError) as exc:
            click.echo(f"nats-pubsub bench: {exc}", err=True)
            sys.exit(1)
    click.echo(render(summary, "json" if as_json else "csv" if as_csv else "text"))


@bench.command()
@_output_options
@click.option("--settle", type=float, default=1.0, show_default=True, help="Seconds idle first")
@click.option(
    "--service",
    type=click.Choice(["subscribe", "gateway"]),
    default="subscribe",
    show_default=True,
)
def memory(
    url: str | None,
    embedded: bool,
    as_json: bool,
    as_csv: bool,
    connect_timeout: float,
    settle: float,
    service: str,
) -> None:
    """Resident memory (VmRSS) of an idle `nats-pubsub subscribe` once it has subscribed, or of
    an idle `nats-pubsub gateway` once it is connected."""
    import json

    from nats_pubsub.bench.memory import idle_rss_kib

    with _server_url(url, embedded, connect_timeout) as server_url:
        kib = idle_rss_kib(server_url, settle, service=service)
    row = {"command": "memory", "service": service, "rss_kib": kib, "rss_mib": kib / 1024}
    if as_json:
        click.echo(json.dumps(row))
    elif as_csv:
        click.echo("command,service,rss_kib,rss_mib\n" + f"memory,{service},{kib},{kib / 1024:.1f}")
    else:
        click.echo(f"idle {service}: {kib / 1024:.1f} MiB resident")
