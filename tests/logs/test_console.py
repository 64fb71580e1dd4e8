"""The console renderer escapes what it did not write: no control sequence from a message
reaches the terminal, whether in a value, a key, the message text or the logger's name."""

from __future__ import annotations

import io

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nats_pubsub.domain.timeutil import now_timestamp
from nats_pubsub.logs.console import printable, render_console
from nats_pubsub.logs.logger import Logger, LogSink
from nats_pubsub.server.embedded import EmbeddedServer
from tests.helpers.fixtures import CliFactory, publish_raw
from tests.helpers.messages import hostile_event

# Clear the screen, a colour, an OSC window title, an 8-bit CSI, a bidi override, DEL, a newline.
HOSTILE = "\x1b[2J\x1b[31mred\x1b]0;owned\x07\x9b6n\u202egnp.exe\x7f\nnext"
CONTROLS = ("\x1b", "\x07", "\x9b", "\u202e", "\x7f", "\n")


def test_printable_escapes_each_control() -> None:
    """Each non-printable character becomes a visible escape; printable text is kept."""
    assert printable("plain ✓ é") == "plain ✓ é"
    assert printable("a\x1bb\u202ec\U000e0001") == "a\\x1bb\\u202ec\\U000e0001"


def test_hostile_record_renders_without_controls() -> None:
    """Hostile text in values, keys, nested values, the message and logger: none survives."""
    record = {
        "timestamp": "2026-01-02T03:04:05.678901Z",
        "level": "INFO",
        "logger": HOSTILE,
        "message": HOSTILE,
        "source": HOSTILE,
        HOSTILE: 1,
        "headers": {HOSTILE: HOSTILE},
        "fields": [HOSTILE],
    }
    line = render_console(record, color=False)
    assert line.isprintable(), repr(line)
    assert not any(char in line for char in CONTROLS)
    assert "owned" in line  # shown, not swallowed


def test_only_our_colours_reach_the_terminal() -> None:
    """With colour on, the one escape sequence left is the level's colour and its reset."""
    line = render_console({"level": "ERROR", "message": HOSTILE, "v": HOSTILE}, color=True)
    assert line.count("\x1b") == 2
    assert "\x1b[31mERROR  \x1b[0m" in line


@given(st.dictionaries(st.text(max_size=8), st.text() | st.lists(st.text(), max_size=3)))
def test_any_text_renders_printable(fields: dict[str, object]) -> None:
    """Whatever text arrives, the rendered line is printable (one line, no controls)."""
    line = render_console({"level": "INFO", "message": "m", **fields}, color=False)
    assert line.isprintable()


def test_console_logger_writes_no_control_bytes() -> None:
    """A console logger given hostile fields writes escaped lines."""
    stream = io.BytesIO()
    log = Logger("t", LogSink(stream), fmt="console")
    log.info("Message received", source=HOSTILE)
    log.record_emitter("INFO", "Message received", ("subject",))(HOSTILE)
    log.flush()
    data = stream.getvalue().decode()
    assert data.count("\n") == 2
    assert not any(char in data.replace("\n", "") for char in CONTROLS)


@pytest.mark.e2e
def test_subscriber_console_output_is_escaped(
    nats_server: EmbeddedServer, run_cli: CliFactory
) -> None:
    """On the console, a hostile event and an invalid hostile payload: no control byte out."""
    sub = run_cli(
        "subscribe", "--subject", "hostile.>", url=nats_server.url, env={"LOG_FORMAT": "console"}
    )
    sub.logs.wait_for_line("Subscribed")
    bad = hostile_event(1, "peer", now_timestamp()).replace(b'"user.login"', b'"\\u001b[2J\\u009b"')
    publish_raw(nats_server.url, "hostile.\x1b[2J", [bad, HOSTILE.encode() + b"\xff"])
    sub.logs.wait_for_line("Invalid message")
    sub.logs.wait_for_line("Message received")
    sub.signal()
    sub.wait()
    output = "\n".join(sub.logs.raw)
    assert not any(char in output.replace("\n", "") for char in CONTROLS), output


@pytest.mark.e2e
def test_up_console_output_is_escaped(nats_server: EmbeddedServer, run_cli: CliFactory) -> None:
    """`up` on the console shows its services' records escaped too."""
    up = run_cli("up", "--log-format", "console", url=nats_server.url)
    up.logs.wait_for_line("Stack running")
    publish_raw(nats_server.url, "events.test", [HOSTILE.encode()])
    up.logs.wait_for_line("Invalid message")
    up.signal()
    up.wait()
    output = "\n".join(up.logs.raw)
    assert not any(char in output.replace("\n", "") for char in CONTROLS), output
