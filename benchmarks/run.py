"""`make bench`: the issue-7 targets measured side by side on one embedded server, as ratios.

The JetStream publish rows are measured a second time on another embedded server held to one
core (GOMAXPROCS=1), which leaves the other core of a small machine to the publisher.

Every measurement runs through `nats-pubsub bench`'s own code (`nats_pubsub.bench.run_bench`,
`gateway_bench`) in fresh worker processes; the gateway rows run our gateway and the classic
FastAPI handler as server processes under wrk (a Python load client when wrk is missing).
Within a round each of ours runs right next to its baseline, in the opposite order every other
round; a ratio is taken per round (the two sides measured a few
seconds apart, under the same machine load) and the median of the rounds' ratios is reported,
with each round's ratio beside it. Rates and latencies are the medians of the rounds. Prints a
Markdown table for docs/performance.md. `--quick` is a smoke run with small loads and one round.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from nats_pubsub.bench.gateway import gateway_bench
from nats_pubsub.bench.memory import idle_rss_kib
from nats_pubsub.bench.report import Summary
from nats_pubsub.bench.runner import BenchRequest, run_bench
from nats_pubsub.server.embedded import EmbeddedServer

Samples = dict[str, list[float]]


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small loads, one round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--msgs", type=int, default=100_000, help="core pub/sub messages per run")
    parser.add_argument(
        "--pub-msgs", type=int, default=300_000, help="our and bare publishers (runs of ~1-2 s)"
    )
    parser.add_argument("--js-msgs", type=int, default=50_000, help="windowed JetStream publish")
    parser.add_argument("--js-sync-msgs", type=int, default=5_000, help="one ack at a time")
    parser.add_argument("--replay-msgs", type=int, default=100_000)
    parser.add_argument("--latency-msgs", type=int, default=10_000, help="at 1,000 msg/s")
    parser.add_argument("--gateway-seconds", type=float, default=5.0, help="each gateway run")
    args = parser.parse_args()
    if args.quick:
        args.rounds, args.msgs, args.js_msgs, args.js_sync_msgs = 1, 5_000, 2_000, 500
        args.pub_msgs = 5_000
        args.replay_msgs, args.latency_msgs = 5_000, 1_000
        args.gateway_seconds = 1.0
    return args


def _runs(
    args: argparse.Namespace, url: str, one_core_url: str
) -> dict[str, Callable[[], Summary]]:
    def bench(command: str, msgs: int, *, at: str = url, **more: object) -> Callable[[], Summary]:
        request = BenchRequest(command=command, url=at, msgs=msgs, progress=False, **more)  # type: ignore[arg-type]
        return lambda: run_bench(request)

    return {
        "sub-bare": bench("sub", args.msgs, mode="bare"),
        "sub-ours": bench("sub", args.msgs, mode="ours"),
        "sub-classic": bench("sub", args.msgs, mode="classic"),
        "monitor-ours": bench("sub", args.msgs, mode="ours", service="monitor"),
        "pub-bare": bench("pub", args.pub_msgs, mode="bare"),
        "pub-ours": bench("pub", args.pub_msgs, mode="ours"),
        "pub-classic": bench("pub", args.msgs, mode="classic"),
        "js-sync": bench("js-pub", args.js_sync_msgs, mode="bare"),
        "js-window": bench("js-pub", args.js_msgs, mode="ours"),
        "js-fast": bench("js-pub", args.js_msgs, mode="fast"),
        "js-async": bench("js-pub", args.js_msgs, mode="async"),
        "js1-sync": bench("js-pub", args.js_sync_msgs, mode="bare", at=one_core_url),
        "js1-window": bench("js-pub", args.js_msgs, mode="ours", at=one_core_url),
        "js1-fast": bench("js-pub", args.js_msgs, mode="fast", at=one_core_url),
        "replay-ours": bench("js-replay", args.replay_msgs, mode="ours"),
        "replay-bare": bench("js-replay", args.replay_msgs, mode="bare"),
        "latency-ours": bench("latency", args.latency_msgs, mode="ours", rate=1000.0),
        "latency-classic": bench("latency", args.latency_msgs, mode="classic", rate=1000.0),
        "gw-ours": lambda: gateway_bench(url, "ours", seconds=args.gateway_seconds),
        "gw-classic": lambda: gateway_bench(url, "classic", seconds=args.gateway_seconds),
        "gw-fanout": lambda: gateway_bench(url, "fanout", seconds=args.gateway_seconds),
        # Warm-ups, not measured (see _GROUPS).
        "warm-sub": bench("sub", max(args.msgs // 5, 1_000), mode="bare"),
        "warm-pub": bench("pub", max(args.pub_msgs // 5, 1_000), mode="bare"),
        "warm-js": bench("js-pub", max(args.js_sync_msgs // 5, 100), mode="bare"),
        "warm-js1": bench("js-pub", max(args.js_sync_msgs // 5, 100), mode="bare", at=one_core_url),
    }


# Runs in the order of each group on odd rounds, reversed on even ones: each of ours stays next
# to its baseline (the monitor's is the subscriber's) and neither always goes first. A group
# starts with an unmeasured warm-up run of its kind (after the previous group, or the idle
# memory measurement that ends a round), so no measured run is the first after a quiet spell.
_GROUPS = (
    ("warm-sub", ("sub-ours", "sub-bare", "monitor-ours", "sub-classic")),
    ("warm-pub", ("pub-ours", "pub-bare", "pub-classic")),
    ("warm-js", ("js-window", "js-sync", "js-fast", "js-async")),
    ("warm-js1", ("js1-window", "js1-sync", "js1-fast")),
    (None, ("replay-ours", "replay-bare")),
    (None, ("latency-ours", "latency-classic")),
    (None, ("gw-ours", "gw-classic")),
    (None, ("gw-fanout",)),
)
# (what, ours, baseline): the ratios taken per round.
_RATIOS = (
    ("subscriber", "sub-ours", "sub-bare"),
    ("publisher", "pub-ours", "pub-bare"),
    ("monitor", "monitor-ours", "sub-bare"),
    ("JetStream window", "js-window", "js-sync"),
    ("JetStream fast ingest", "js-fast", "js-sync"),
    ("JetStream window, server on one core", "js1-window", "js1-sync"),
    ("JetStream fast ingest, server on one core", "js1-fast", "js1-sync"),
    ("HTTP gateway publish", "gw-ours", "gw-classic"),
)


def _measure(args: argparse.Namespace, url: str, one_core_url: str) -> Samples:
    rates: Samples = {}
    runs = _runs(args, url, one_core_url)
    for round_no in range(1, args.rounds + 1):
        for warm, group in _GROUPS:
            if warm is not None:
                runs[warm]()
            for key in group if round_no % 2 else group[::-1]:
                _measure_one(runs, key, round_no, rates)
        rss = idle_rss_kib(url, 0.5 if args.quick else 2.0) / 1024
        rates.setdefault("rss-mib", []).append(rss)
        gateway_rss = idle_rss_kib(url, 0.5 if args.quick else 2.0, service="gateway") / 1024
        rates.setdefault("gw-rss-mib", []).append(gateway_rss)
        print(
            f"  round {round_no}: idle RSS {rss:.1f} MiB, gateway {gateway_rss:.1f} MiB",
            file=sys.stderr,
        )
    for _, ours, base in _RATIOS:
        rates[f"{ours}/{base}"] = [a / b for a, b in zip(rates[ours], rates[base], strict=True)]
    return rates


def _measure_one(
    runs: dict[str, Callable[[], Summary]], key: str, round_no: int, rates: Samples
) -> None:
    summary = runs[key]()
    if summary.received < summary.sent:
        print(f"  note: {key} received {summary.received} of {summary.sent}")
    rates.setdefault(key, []).append(summary.rate)
    if summary.latency_ms is not None and key.startswith(("latency", "gw-")):
        rates.setdefault(f"{key}-p99", []).append(summary.latency_ms.p99)
    if key == "gw-fanout":
        calm = summary.extra["rate_without_stalled_client"]
        rates.setdefault("gw-stall-ratio", []).append(summary.rate / calm if calm else 0.0)
        complete = 1.0 if summary.extra["every_client_got_all"] else 0.0
        rates.setdefault("gw-complete", []).append(complete)
    print(f"  round {round_no}: {key:<16} {summary.rate:>12,.0f} msg/s", file=sys.stderr)


def _per_round(samples: Samples) -> list[str]:
    """Each round's ratio, so the spread behind a median is visible."""
    lines = ["", "Per round (ours / baseline, measured side by side):", ""]
    for what, ours, base in _RATIOS:
        values = " ".join(f"{v:.2f}" for v in samples[f"{ours}/{base}"])
        lines.append(f"- {what}: {values}")
    p99 = " ".join(f"{v:.2f}" for v in samples["latency-ours-p99"])
    classic = " ".join(f"{v:.2f}" for v in samples["latency-classic-p99"])
    lines.append(f"- p99 at 1,000 msg/s (ms): ours {p99}; classic {classic}")
    fan = " ".join(f"{v:.2f}" for v in samples["gw-fanout-p99"])
    stall = " ".join(f"{v:.3f}" for v in samples["gw-stall-ratio"])
    lines.append(
        f"- WebSocket fan-out p99 (ms): {fan}; rate with / without a stalled client: {stall}"
    )
    return lines


def _table(med: dict[str, float]) -> list[str]:
    def ratio(ours: str, base: str) -> float:
        """The median of the rounds' ratios where it was taken per round, else of the medians."""
        paired = med.get(f"{ours}/{base}")
        return paired if paired is not None else med[ours] / med[base]

    def n(key: str) -> str:
        return f"{med[key]:,.0f}"

    def row(what: str, ours: str, base: str, classic: str, result: str, target: str, ok: bool):
        met = "yes" if ok else "no"
        return f"| {what} | {ours} | {base} | {classic} | {result} | {target} | {met} |"

    sub, pub = ratio("sub-ours", "sub-bare"), ratio("pub-ours", "pub-bare")
    mon = ratio("monitor-ours", "sub-bare")
    js = ratio("js-window", "js-sync")
    fast = ratio("js-fast", "js-sync")
    js1, fast1 = ratio("js1-window", "js1-sync"), ratio("js1-fast", "js1-sync")
    lines = [
        "| what | ours | bare nats-py | classic | result | target | met |",
        "| --- | ---: | ---: | ---: | ---: | ---: | :---: |",
        row(
            "subscriber, full processing (msg/s)",
            n("sub-ours"),
            n("sub-bare"),
            f"{n('sub-classic')} ({ratio('sub-classic', 'sub-bare'):.2f})",
            f"{sub:.2f}",
            ">= 0.6",
            sub >= 0.6,
        ),
        row(
            "publisher, full processing (msg/s)",
            n("pub-ours"),
            n("pub-bare"),
            f"{n('pub-classic')} ({ratio('pub-classic', 'pub-bare'):.2f})",
            f"{pub:.2f}",
            ">= 0.5",
            pub >= 0.5,
        ),
        row(
            "monitor, every payload logged (msg/s)",
            n("monitor-ours"),
            n("sub-bare"),
            "-",
            f"{mon:.2f}",
            ">= 0.5",
            mon >= 0.5,
        ),
        row(
            "JetStream publish: ack window vs one ack at a time (msg/s)",
            n("js-window"),
            n("js-sync"),
            f"publish_async {n('js-async')} ({ratio('js-async', 'js-sync'):.1f}x)",
            f"{js:.1f}x",
            ">= 15x",
            js >= 15,
        ),
        row(
            "JetStream publish: --fast-ingest window vs one ack at a time (msg/s)",
            n("js-fast"),
            n("js-sync"),
            "-",
            f"{fast:.1f}x",
            ">= 15x",
            fast >= 15,
        ),
        row(
            "... the same on a server held to one core (GOMAXPROCS=1): ack window (msg/s)",
            n("js1-window"),
            n("js1-sync"),
            "-",
            f"{js1:.1f}x",
            ">= 15x",
            js1 >= 15,
        ),
        row(
            "... the same on a server held to one core (GOMAXPROCS=1): --fast-ingest (msg/s)",
            n("js1-fast"),
            n("js1-sync"),
            "-",
            f"{fast1:.1f}x",
            ">= 15x",
            fast1 >= 15,
        ),
        row(
            "JetStream replay of the stream (msg/s)",
            n("replay-ours"),
            n("replay-bare"),
            "-",
            n("replay-ours"),
            ">= 50,000",
            med["replay-ours"] >= 50_000,
        ),
        row(
            "end-to-end p99 at 1,000 msg/s (ms)",
            f"{med['latency-ours-p99']:.2f}",
            "-",
            f"{med['latency-classic-p99']:.2f}",
            f"{med['latency-ours-p99']:.2f} ms",
            "<= 1 ms",
            med["latency-ours-p99"] <= 1.0,
        ),
        row(
            "HTTP gateway publish, 64 keep-alive clients: ours vs the classic FastAPI handler "
            "(req/s)",
            n("gw-ours"),
            "-",
            n("gw-classic"),
            f"{ratio('gw-ours', 'gw-classic'):.1f}x",
            ">= 2.5x",
            ratio("gw-ours", "gw-classic") >= 2.5,
        ),
        row(
            "WebSocket fan-out, 50 clients on one subject at 2,000 msg/s: p99 added latency (ms)",
            f"{med['gw-fanout-p99']:.2f}",
            "-",
            "-",
            f"{med['gw-fanout-p99']:.2f} ms",
            "< 5 ms",
            med["gw-fanout-p99"] < 5.0,
        ),
        row(
            "... one stalled client: the others' rate with it / without it (all messages "
            "delivered)",
            f"{med['gw-stall-ratio']:.3f}",
            "-",
            "-",
            f"{med['gw-stall-ratio']:.3f}",
            ">= 0.95",
            med["gw-stall-ratio"] >= 0.95 and med["gw-complete"] == 1.0,
        ),
        row(
            "idle gateway, resident memory (MiB)",
            f"{med['gw-rss-mib']:.1f}",
            "-",
            "-",
            f"{med['gw-rss-mib']:.1f} MiB",
            "reported",
            True,
        ),
        row(
            "idle connected subscriber, resident memory (MiB)",
            f"{med['rss-mib']:.1f}",
            "-",
            "-",
            f"{med['rss-mib']:.1f} MiB",
            "<= 35 MB",
            med["rss-mib"] * 1.048576 <= 35,
        ),
    ]
    return lines


def main() -> None:
    args = _parse()
    started = time.monotonic()
    with (
        tempfile.TemporaryDirectory() as store,
        EmbeddedServer(store_dir=Path(store) / "main") as server,
        EmbeddedServer(store_dir=Path(store) / "one-core", env={"GOMAXPROCS": "1"}) as one_core,
    ):
        samples = _measure(args, server.url, one_core.url)
    med = {key: statistics.median(values) for key, values in samples.items()}
    print(
        f"\n{time.strftime('%Y-%m-%d')}, {platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}; medians of {args.rounds} round(s); "
        f"core runs {args.msgs:,} messages ({args.pub_msgs:,} for our and bare publishers), "
        f"JetStream {args.js_msgs:,} windowed / "
        f"{args.js_sync_msgs:,} one-at-a-time, replay {args.replay_msgs:,}, latency "
        f"{args.latency_msgs:,} at 1,000 msg/s, gateway runs of {args.gateway_seconds:g} s "
        f"(load client: {'wrk' if shutil.which('wrk') else 'python'}); "
        f"{time.monotonic() - started:.0f} s\n"
    )
    print("\n".join(_table(med) + _per_round(samples)))


if __name__ == "__main__":
    main()
