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

from nats_pubsub.cli.commands import cli
from nats_pubsub.config import (
    GatewaySettings,
    MonitorSettings,
    PaymentSettings,
    PublisherSettings,
    ServerSettings,
    SubscriberSettings,
    UpSettings,
)
from nats_pubsub.config.base import _FLAG_ONLY
from nats_pubsub.observability.metrics import METRICS, exposed_names

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
COMPOSE = DEPLOY / "docker-compose.yml"
# Services built from our image: (compose name, profile or None for the default set).
APP_SERVICES = {
    "gateway": None,
    "publisher": None,
    "subscriber": None,
    "payment-publisher": "payments",
    "message-logger": "payments",
    "js-publisher": "jetstream",
    "js-logger": "jetstream",
}
PROFILES = {
    None: {"nats", "publisher", "subscriber", "gateway"},
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
        GatewaySettings,
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


# What a user's .env gives the stack (the variables it cannot start without).
SAMPLE_ENV = {
    "NATS_USER": "stack",
    "NATS_PASSWORD": "sample-password",
    "GRAFANA_ADMIN_PASSWORD": "sample-admin-password",
    "GATEWAY_TOKEN": "sample-gateway-token",
}
_VARIABLE = re.compile(r"\$\{([A-Z0-9_]+)(?:(:-|:\?)([^}]*))?\}")


def interpolate(text: str, env: dict[str, str]) -> str:
    """`${VAR}`, `${VAR:-default}` and `${VAR:?error}` replaced as `docker compose` does; a
    required variable unset or empty raises ValueError with its message."""

    def value(match: re.Match[str]) -> str:
        name, kind, rest = match.groups()
        given = env.get(name, "")
        if given:
            return given
        if kind == ":?":
            raise ValueError(f"required variable {name} is missing a value: {rest}")
        return rest if kind == ":-" else ""

    return _VARIABLE.sub(value, text)


def test_compose_validates_against_the_spec() -> None:
    """The Compose Specification implementation accepts the file as compose reads it with a
    .env (variables interpolated), merge keys applied."""
    from compose_spec import PyOptions

    parsed = PyOptions(apply_merge=True).from_yaml(interpolate(COMPOSE.read_text(), SAMPLE_ENV))
    parsed.validate()
    assert set(parsed.service_names()) == set().union(*PROFILES.values())


def test_compose_spec_rejects_an_unknown_key() -> None:
    """The validator is strict: a misspelt service key fails (so the test above means something)."""
    from compose_spec import PyOptions

    broken = COMPOSE.read_text().replace('    command: ["subscribe"]', "    comand: [subscribe]")
    with pytest.raises(ValueError, match="comand"):
        PyOptions(apply_merge=True).from_yaml(interpolate(broken, SAMPLE_ENV)).validate()


@pytest.mark.parametrize("missing", sorted(SAMPLE_ENV))
def test_compose_will_not_start_without_the_secrets(missing: str) -> None:
    """Without NATS_USER, NATS_PASSWORD, GRAFANA_ADMIN_PASSWORD or GATEWAY_TOKEN in .env,
    compose stops with a message naming it (no default credentials anywhere)."""
    env = {name: value for name, value in SAMPLE_ENV.items() if name != missing}
    with pytest.raises(ValueError, match=f"{missing} is missing a value: set {missing} in .env"):
        interpolate(COMPOSE.read_text(), env)


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
        assert compose["services"][name]["healthcheck"]["test"][1:3] == ["nats-pubsub", "health"]
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
    """Every metric a dashboard panel queries is defined in nats_pubsub.observability.metrics."""
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


# --- the stack is closed by default ------------------------------------------------------------

_BIND = "${BIND_ADDRESS:-127.0.0.1}"
_MEMORY = re.compile(r"^\d+[kmg]$")


def test_published_ports_bind_loopback_unless_told(compose: dict[str, Any]) -> None:
    """Every published port names its host address: 127.0.0.1 unless BIND_ADDRESS says."""
    published = 0
    for name, service in compose["services"].items():
        for port in service.get("ports", []):
            published += 1
            assert isinstance(port, str), f"{name}: {port!r}"
            assert port.startswith(_BIND + ":"), f"{name} publishes {port} on every interface"
    assert published >= 4


def test_loki_is_not_published(compose: dict[str, Any]) -> None:
    """Loki takes unauthenticated pushes: reachable only inside the stack."""
    assert "ports" not in compose["services"]["loki"]
    assert "auth_enabled: false" in (DEPLOY / "loki/loki.yml").read_text()  # why it must not be


def test_grafana_needs_an_admin_password_and_no_anonymous_viewers(
    compose: dict[str, Any],
) -> None:
    """No default admin password (compose refuses to start without one), anonymous access off."""
    env = compose["services"]["grafana"]["environment"]
    assert env["GF_SECURITY_ADMIN_PASSWORD"].startswith("${GRAFANA_ADMIN_PASSWORD:?")
    assert env["GF_AUTH_ANONYMOUS_ENABLED"] == "false"
    assert "GF_AUTH_ANONYMOUS_ORG_ROLE" not in env


def test_nats_credentials_are_required_and_given_to_everyone(compose: dict[str, Any]) -> None:
    """The NATS servers and every one of our services get NATS_USER and NATS_PASSWORD from
    .env, required (`:?`): no stack runs without them."""
    for name in [*APP_SERVICES, "nats", "nats-1", "nats-2", "nats-3"]:
        env = compose["services"][name]["environment"]
        for variable in ("NATS_USER", "NATS_PASSWORD"):
            assert env[variable].startswith("${" + variable + ":?"), f"{name}: {variable}"


def test_every_service_has_a_memory_limit(compose: dict[str, Any]) -> None:
    """A runaway service is stopped by its limit, not by the host."""
    for name, service in compose["services"].items():
        assert _MEMORY.match(str(service.get("mem_limit", ""))), f"{name} has no mem_limit"


def _authorization_block(config: str) -> str:
    text = (DEPLOY / config).read_text()
    start = text.index("authorization {")
    return text[start : text.index("\n}\n", start) + 3]


@pytest.mark.e2e
@pytest.mark.parametrize("config", ["nats/nats.conf", "nats/cluster.conf"])
def test_nats_configuration_refuses_clients_without_the_env_credentials(
    start_server: Any, run_cli: Any, config: str, tmp_path: Path
) -> None:
    """The shipped authorization block, run by a real nats-server with NATS_USER and
    NATS_PASSWORD in its environment (as compose runs it): a client without them, or with a
    wrong password, is refused; a client with them connects."""
    creds = {"NATS_USER": "stack", "NATS_PASSWORD": "from-the-env-file"}
    block = tmp_path / "authorization.conf"
    block.write_text(_authorization_block(config))
    assert "$NATS_USER" in block.read_text()
    server = start_server(config_file=block, env=creds)
    refused = run_cli("publish", "--count", "1", url=server.url)
    assert refused.wait() == 1, refused.output()
    [record] = refused.logs.where("Could not connect to NATS")
    assert "authorization" in record["error"].lower()
    wrong = run_cli(
        "publish", "--count", "1", url=server.url, env={**creds, "NATS_PASSWORD": "guess"}
    )
    assert wrong.wait() == 1, wrong.output()
    accepted = run_cli("publish", "--count", "1", url=server.url, env=creds)
    assert accepted.wait() == 0, accepted.output()
