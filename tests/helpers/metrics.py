"""Reading a running service's endpoint: its address, GET, the /metrics samples, and waiting
for a condition (end-to-end tests of metrics, limits, Prometheus and hostile input)."""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import TypeVar

from prometheus_client.parser import text_string_to_metric_families

from nats_pubsub.testing import ServiceProcess

_T = TypeVar("_T")
METRICS_ARGS = ("--metrics-port", "0", "--metrics-host", "127.0.0.1")


def endpoint(proc: ServiceProcess) -> str:
    """The base URL of a service's endpoint, from its `Metrics endpoint listening` record."""
    record = proc.logs.wait_for("Metrics endpoint listening")[0]
    return f"http://127.0.0.1:{record['port']}"


def get(url: str) -> tuple[int, bytes]:
    """GET a URL: status and body, error statuses included."""
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return int(response.status), bytes(response.read())
    except urllib.error.HTTPError as exc:
        return int(exc.code), bytes(exc.read())


def scrape(base: str) -> dict[str, float]:
    """The samples of /metrics as {'name{label=value,...}': value}, labels sorted."""
    status, body = get(f"{base}/metrics")
    assert status == 200
    values = {}
    for family in text_string_to_metric_families(body.decode()):
        for sample in family.samples:
            labels = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))
            values[f"{sample.name}{{{labels}}}"] = sample.value
    return values


def eventually(check: Callable[[], _T | None], timeout: float = 60.0) -> _T:
    """Poll `check` until it returns something other than None/False (generous deadline)."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s: {check.__doc__}")
        time.sleep(0.2)
