"""A benchmark run's summary: counts, rates, HDR latency percentiles, as text, JSON or CSV."""

from __future__ import annotations

import csv
import io
import json
import sys
import time
from dataclasses import asdict, dataclass, field
from typing import IO, Any

from hdrh.histogram import HdrHistogram

__all__ = [
    "CSV_FIELDS",
    "LatencySummary",
    "Progress",
    "Summary",
    "merge_histograms",
    "new_histogram",
    "render",
]

# Microseconds, up to one minute, 3 significant digits: enough for loopback and for a backlog.
_LOWEST_US = 1
_HIGHEST_US = 60_000_000
_DIGITS = 3

CSV_FIELDS = (
    "command",
    "mode",
    "service",
    "clients",
    "msgs",
    "size",
    "sent",
    "received",
    "seconds",
    "rate",
    "publish_rate",
    "p50_ms",
    "p90_ms",
    "p99_ms",
    "p99_9_ms",
    "max_ms",
)


def new_histogram() -> HdrHistogram:
    """An empty latency histogram in microseconds."""
    return HdrHistogram(_LOWEST_US, _HIGHEST_US, _DIGITS)


def merge_histograms(encoded: list[str]) -> HdrHistogram:
    """Add up histograms sent by worker processes (HdrHistogram's compressed base64 form)."""
    total = new_histogram()
    for text in encoded:
        total.add(HdrHistogram.decode(text.encode()))
    return total


@dataclass(frozen=True)
class LatencySummary:
    """Latency percentiles in milliseconds, from an HDR histogram."""

    count: int
    p50: float
    p90: float
    p99: float
    p99_9: float
    max: float

    @classmethod
    def of(cls, hist: HdrHistogram) -> LatencySummary:
        """Read the percentiles out of a histogram of microseconds."""

        def at(pct: float) -> float:
            return round(float(hist.get_value_at_percentile(pct)) / 1000, 3)

        return cls(
            count=hist.get_total_count(),
            p50=at(50),
            p90=at(90),
            p99=at(99),
            p99_9=at(99.9),
            max=round(hist.get_max_value() / 1000, 3),
        )


@dataclass
class Summary:
    """What one `bench` run measured; `rate` is the headline figure in messages per second."""

    command: str
    mode: str
    service: str
    clients: int
    msgs: int
    size: int
    sent: int
    received: int
    seconds: float
    rate: float
    publish_rate: float | None = None
    latency_ms: LatencySummary | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """The JSON form: every field, latency as a nested object (or null)."""
        out = asdict(self)
        extra = out.pop("extra")
        out.update(extra)
        return out

    def csv_row(self) -> dict[str, Any]:
        """The CSV form: flat, latency percentiles as their own columns."""
        row = {name: getattr(self, name, None) for name in CSV_FIELDS[:11]}
        lat = self.latency_ms
        row.update(
            p50_ms=lat.p50 if lat else None,
            p90_ms=lat.p90 if lat else None,
            p99_ms=lat.p99 if lat else None,
            p99_9_ms=lat.p99_9 if lat else None,
            max_ms=lat.max if lat else None,
        )
        return row


def _text(summary: Summary) -> str:
    # The consuming service is named only where there is one (sub, pubsub): no "(ours, -)".
    how = summary.mode if summary.service == "-" else f"{summary.mode}, {summary.service}"
    lines = [
        f"{summary.command} ({how}): {summary.rate:,.0f} msg/s",
        f"  sent {summary.sent:,}, received {summary.received:,} in {summary.seconds:.3f} s; "
        f"{summary.clients} client(s), ~{summary.size} bytes per message",
    ]
    if summary.publish_rate is not None:
        lines.append(f"  publishers: {summary.publish_rate:,.0f} msg/s")
    lat = summary.latency_ms
    if lat is not None:
        lines.append(
            f"  latency ms: p50 {lat.p50} p90 {lat.p90} p99 {lat.p99} p99.9 {lat.p99_9} "
            f"max {lat.max} ({lat.count:,} samples)"
        )
    lines.extend(f"  {key}: {value}" for key, value in summary.extra.items())
    return "\n".join(lines)


def render(summary: Summary, fmt: str) -> str:
    """The summary as `text`, `json` (one object) or `csv` (a header and one row)."""
    if fmt == "json":
        return json.dumps(summary.as_dict())
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=CSV_FIELDS, lineterminator="\n")
        writer.writeheader()
        writer.writerow(summary.csv_row())
        return buffer.getvalue().rstrip("\n")
    return _text(summary)


class Progress:
    """A one-line progress bar on stderr, drawn only when stderr is a terminal."""

    _EVERY = 0.2  # seconds between redraws

    def __init__(self, label: str, total: int, stream: IO[str] | None = None) -> None:
        self._stream = stream or sys.stderr
        self.enabled = self._stream.isatty()
        self._label = label
        self._total = max(total, 1)
        self._last = 0.0

    def show(self, done: int) -> None:
        """Redraw with `done` of the total (at most five times a second)."""
        now = time.monotonic()
        if not self.enabled or now - self._last < self._EVERY:
            return
        self._last = now
        share = min(done / self._total, 1.0)
        bar = "#" * int(share * 30)
        self._stream.write(f"\r{self._label} [{bar:<30}] {done:,}/{self._total:,} {share:4.0%}")
        self._stream.flush()

    def end(self) -> None:
        """Leave the bar's line."""
        if self.enabled:
            self._stream.write("\n")
            self._stream.flush()
