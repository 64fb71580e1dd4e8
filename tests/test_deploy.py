"""Checks of deploy/: compose against the Compose spec, env names, commands, dashboard, Dockerfile.

Docker itself is not needed: the compose file is parsed and validated by the `compose-spec`
package (a typed implementation of the Compose Specification that rejects unknown keys), and the
Prometheus files by `promtool` where it is installed.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from nats_pubsub.cli import cli
from nats_pubsub.config import (
    MonitorSettings,
    PaymentSettings,
    PublisherSettings,
    ServerSettings,
    SubscriberSettings,
    UpSettings,
)
from nats_pubsub.config.base import _FLAG_ONLY
from nats_pubsub.metrics import METRICS, exposed_names

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
COMPOSE = DEPLOY / "docker-compose.yml"
# Services built from our image: (compose name, profile or None for the default set).
APP_SERVICES = {
    "publisher": None,
    "subscriber": None,
    "payment-publisher": "payments",
    "message-logger": "payments",
    "js-publisher": "jetstream",
    "js-logger": "jetstream",
}
PROFILES = {
    None: {"nats", "publisher", "subscriber"},
    "payments": {"payment-publisher", "message-logger"},
    "jetstream": {"js-publisher", "js-logger"},
    "observability": {"loki", "alloy", "prometheus", "grafana"},
    "cluster": {"nats-1", "nats-2", "nats-3"},
}
_INTERPOLATED = re.compile(r"\$\{([A-Z0-9_]+)")
_METRIC = re.compile(r"\bnats_pubsub_[a-z0-9_]+")


def code_env_names() -> set[str]:
    """Every environment variable some settings model reads."""
    names = set()
    for cls in (
        PublisherSettings,
        SubscriberSettings,
        PaymentSettings,
        MonitorSettings,
        ServerSettings,
        UpSettings,
    ):
        prefix = str(cls.model_config.get("env_prefix", ""))
        for field, info in cls.model_fields.items():
            if field in _FLAG_ONLY:
                continue
            alias = info.validation_alias if isinstance(info.validation_alias, str) else None
            names.add(alias or f"{prefix}{field}".upper())
    return names


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    """The compose file as data, YAML merge keys applied."""
    data: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return data


def test_compose_validates_against_the_spec() -> None:
    """The Compose Specification implementation accepts the file, merge keys applied."""
    from compose_spec import PyOptions

    parsed = PyOptions(apply_merge=True).from_yaml(COMPOSE.read_text())
    parsed.validate()
    assert set(parsed.service_names()) == set().union(*PROFILES.values())


def test_compose_spec_rejects_an_unknown_key() -> None:
    """The validator is strict: a misspelt service key fails (so the test above means something)."""
    from compose_spec import PyOptions

    broken = COMPOSE.read_text().replace('    command: ["subscribe"]', "    comand: [subscribe]")
    with pytest.raises(ValueError, match="comand"):
        PyOptions(apply_merge=True).from_yaml(broken).validate()


def test_profiles_are_as_documented(compose: dict[str, Any]) -> None:
    """Default services, and each profile's services, are exactly the documented ones."""
    found: dict[str | None, set[str]] = {}
    for name, service in compose["services"].items():
        profiles = service.get("profiles") or [None]
        assert len(profiles) == 1, name
        found.setdefault(profiles[0], set()).add(name)
    assert found == PROFILES


def test_scalable_services_have_no_container_name(compose: dict[str, Any]) -> None:
    """`--scale` works: our services set neither container_name nor a shared HOSTNAME."""
    for name in APP_SERVICES:
        service = compose["services"][name]
        assert "container_name" not in service, name
        assert "HOSTNAME" not in service.get("environment", {}), name


def test_environment_names_are_read_by_the_code(compose: dict[str, Any]) -> None:
    """Every variable compose sets for our services is one a settings model reads."""
    known = code_env_names()
    for name in APP_SERVICES:
        unknown = set(compose["services"][name]["environment"]) - known
        assert not unknown, f"{name} sets {sorted(unknown)}, which no setting reads"


def test_commands_are_cli_subcommands(compose: dict[str, Any]) -> None:
    """Each of our services runs a real `nats-pubsub` subcommand."""
    for name in APP_SERVICES:
        command = compose["services"][name]["command"]
        assert command[0] in cli.commands, f"{name}: {command}"


def test_services_carry_log_discovery_labels(compose: dict[str, Any]) -> None:
    """Our services and the NATS servers are labelled for log discovery."""
    for name in [*APP_SERVICES, "nats", "nats-1", "nats-2", "nats-3"]:
        labels = compose["services"][name]["labels"]
        assert labels["logging"] == "promtail", name
        assert labels["logging_jobname"] == "containerlogs", name


def test_services_have_health_checks(compose: dict[str, Any]) -> None:
    """NATS checks its own /healthz; our services use `nats-pubsub health`."""
    assert "healthz" in " ".join(compose["services"]["nats"]["healthcheck"]["test"])
    for name in APP_SERVICES:
        assert compose["services"][name]["healthcheck"]["test"][1:] == ["nats-pubsub", "health"]
        assert compose["services"][name]["depends_on"]["nats"]["condition"] == "service_healthy"


def test_bind_mounts_exist(compose: dict[str, Any]) -> None:
    """Every ./file mounted into a container is in deploy/."""
    for name, service in compose["services"].items():
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            if source.startswith("./"):
                assert (DEPLOY / source).exists(), f"{name}: {source}"


def _prometheus_exprs(dashboard: dict[str, Any]) -> list[str]:
    return [
        target["expr"]
        for panel in dashboard["panels"]
        if panel["datasource"]["type"] == "prometheus"
        for target in panel["targets"]
    ]


def test_dashboard_metrics_exist() -> None:
    """Every metric a dashboard panel queries is defined in nats_pubsub.metrics."""
    dashboard = json.loads((DEPLOY / "grafana/dashboards/nats-pubsub.json").read_text())
    defined = {name for spec in METRICS for name in exposed_names(spec)}
    exprs = _prometheus_exprs(dashboard)
    assert exprs
    for expr in exprs:
        used = set(_METRIC.findall(expr))
        assert used, expr
        assert used <= defined, f"{expr}: {sorted(used - defined)} not in metrics.py"


def test_dashboard_covers_the_required_views() -> None:
    """Rates, latency percentiles, invalid messages, declines, reconnects and Loki ERROR logs."""
    dashboard = json.loads((DEPLOY / "grafana/dashboards/nats-pubsub.json").read_text())
    text = " ".join(_prometheus_exprs(dashboard))
    for needle in (
        "rate(nats_pubsub_published_messages_total",
        "histogram_quantile(0.99",
        "nats_pubsub_invalid_messages_total",
        'nats_pubsub_payments_total{status="declined"}',
        "nats_pubsub_payment_declines_total",
        "nats_pubsub_reconnects_total",
    ):
        assert needle in text, needle
    loki = [
        target["expr"]
        for panel in dashboard["panels"]
        if panel["datasource"]["type"] == "loki"
        for target in panel["targets"]
    ]
    assert loki
    assert all('level="ERROR"' in expr for expr in loki)


def test_alert_rules_use_defined_metrics() -> None:
    """Alert expressions only use metrics that exist."""
    rules = yaml.safe_load((DEPLOY / "prometheus/alerts.yml").read_text())
    defined = {name for spec in METRICS for name in exposed_names(spec)}
    names = {rule["alert"] for group in rules["groups"] for rule in group["rules"]}
    assert {"PaymentDeclineRateHigh", "NoMessagesReceived"} <= names
    for group in rules["groups"]:
        for rule in group["rules"]:
            assert set(_METRIC.findall(rule["expr"])) <= defined, rule["alert"]


def test_env_example_documents_every_variable(compose: dict[str, Any]) -> None:
    """.env.example names every variable the code reads, and nothing else but compose's own."""
    text = (ROOT / ".env.example").read_text()
    listed = set(re.findall(r"^# ([A-Z][A-Z0-9_]*)=", text, re.MULTILINE))
    known = code_env_names()
    interpolated = set(_INTERPOLATED.findall(COMPOSE.read_text()))
    assert known - listed == set(), "add these to .env.example"
    assert listed - known - interpolated == set(), "read by nothing"


def test_dockerfile_shape() -> None:
    """Multi-stage, Alpine runtime, non-root user, health check through `nats-pubsub health`."""
    text = (DEPLOY / "Dockerfile").read_text()
    stages = re.findall(r"^FROM (\S+) AS (\w+)", text, re.MULTILINE)
    assert len(stages) == 2
    assert stages[-1][0].endswith("-alpine")
    assert "pip wheel" in text
    user = re.findall(r"^USER (\S+)", text, re.MULTILINE)
    assert user
    assert user[-1] not in ("root", "0")
    assert re.search(r'HEALTHCHECK .*\n?.*CMD \["nats-pubsub", "health"\]', text)


@pytest.mark.parametrize(
    ("args", "path"),
    [
        (("check", "config"), "prometheus/prometheus.yml"),
        (("check", "rules"), "prometheus/alerts.yml"),
    ],
)
def test_promtool_accepts(args: tuple[str, str], path: str) -> None:
    """promtool accepts the shipped scrape config and alert rules."""
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool not installed (Debian package `prometheus`; .ci/run installs it)")
    result = subprocess.run(
        [promtool, *args, str(DEPLOY / path)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr
