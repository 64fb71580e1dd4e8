"""The CLI's contract for bad configuration: exit 2 with one clear line (before any exec)."""

from __future__ import annotations

import pytest

from tests.helpers.fixtures import CliFactory


@pytest.mark.parametrize(
    ("args", "env", "named"),
    [
        (("publish", "--interval", "-1"), {}, "PUBLISH_INTERVAL / --interval"),
        (("publish",), {"PUBLISH_INTERVAL": "soon"}, "PUBLISH_INTERVAL"),
        (("publish", "--subject", "events..x"), {}, "NATS_SUBJECT / --subject"),
        (("publish", "--subject", "events.*"), {}, "wildcard"),
        (("subscribe", "--subject", "a.>.b"), {}, "NATS_SUBJECT / --subject"),
        (("subscribe",), {"NATS_URL": "http://localhost:4222"}, "NATS_URL / --url"),
        (("streams",), {"NATS_URL": "notaurl"}, "'notaurl' is not a URL: use nats://host:port"),
        (("server",), {"NATS_SERVER_PORT": "70000"}, "NATS_SERVER_PORT / --port"),
        (("monitor", "--ignore", "bad subject"), {}, "white space: 'bad subject'"),
        (("replay", "--since", "yesterday"), {}, "--since: use a duration"),
        (("subscribe", "--count", "0"), {}, "--count"),
        (("subscribe", "--queue-group", "two words"), {}, "QUEUE_GROUP / --queue-group"),
        (("monitor", "--sample-rate", "0"), {}, "--sample-rate"),
        (("payments", "--decline-rate", "2"), {}, "--decline-rate"),
        (("payments",), {"NATS_PASSWORD": "x"}, "NATS_PASSWORD / --password needs NATS_USER"),
    ],
)
def test_config_errors_exit_2_with_one_line(
    run_cli: CliFactory, args: tuple[str, ...], env: dict[str, str], named: str
) -> None:
    """A malformed setting exits 2 and names the variable or flag to fix."""
    proc = run_cli(*args, url="nats://127.0.0.1:1", env=env)
    assert proc.wait(timeout=30) == 2, proc.output()
    lines = [line for line in proc.stderr.raw if line.strip()]
    assert len(lines) == 1, lines
    assert lines[0].startswith("nats-pubsub: configuration error:")
    assert named in lines[0]
