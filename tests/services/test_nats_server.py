"""Which level nats-server's own lines are logged at (pure)."""

from __future__ import annotations

import io
import json

import pytest

from nats_pubsub.logs.logger import Logger, LogSink
from nats_pubsub.services.nats_server import ServerLines, server_line_level

ROUTE = "Error trying to connect to route (attempt 1): dial tcp 127.0.0.1:1: connection refused"


@pytest.mark.parametrize(
    ("level", "text", "settled", "expected"),
    [
        ("ERROR", ROUTE, False, "INFO"),
        ("ERROR", ROUTE, True, "WARNING"),
        ("WARNING", "Waiting for routing to be established...", False, "INFO"),
        ("WARNING", "JetStream has not established contact with a meta leader", True, "WARNING"),
        ("WARNING", "Metalayer blocking snapshot starting", False, "INFO"),
        ("ERROR", "Error listening on port: 127.0.0.1:4222", False, "ERROR"),
        ("WARNING", "Slow Consumer Detected", True, "WARNING"),
        ("INFO", "Server is ready", False, "INFO"),
    ],
)
def test_nodes_coming_and_going_are_no_error(
    level: str, text: str, settled: bool, expected: str
) -> None:
    """Route dials and waits are INFO while starting or stopping, WARNING once running; the
    server's other lines keep their level."""
    assert server_line_level(level, text, settled=settled) == expected


def test_server_lines_show_warnings_and_errors_only() -> None:
    """At INFO, a route dial during the start is not shown; after the start it is a WARNING."""
    stream = io.BytesIO()
    lines = ServerLines(Logger("nats-server", LogSink(stream)))
    lines("ERROR", ROUTE)
    assert stream.getvalue() == b""
    lines.settled = True
    lines("ERROR", ROUTE)
    [record] = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert (record["level"], record["message"]) == ("WARNING", ROUTE)
