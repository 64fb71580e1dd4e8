"""Tests for nats_pubsub.logs.lines and Logger.line_format: templated lines equal real records."""

from __future__ import annotations

import io

import pytest

from nats_pubsub.domain.timeutil import stamp_parts
from nats_pubsub.logs import logger as logs
from nats_pubsub.logs.lines import INT, Fill, line_format
from nats_pubsub.logs.logger import Logger, LogSink

AT = 1_714_979_289_123_456_789


def make_logger(**options: object) -> tuple[Logger, io.BytesIO]:
    """A logger named 'test' writing to an in-memory stream."""
    stream = io.BytesIO()
    return Logger("test", LogSink(stream), **options), stream  # type: ignore[arg-type]


def emitted_line(
    monkeypatch: pytest.MonkeyPatch, log: Logger, stream: io.BytesIO, *values: object
) -> bytes:
    """The line the record emitter writes for `values` at the time AT."""
    monkeypatch.setattr(logs, "now_ns", lambda: AT)
    emit = log.record_emitter("INFO", 'Sent "100%"', ("message_id", "subject", "size"), "on_sent")
    emit(*values)
    log.flush()
    line = stream.getvalue()
    stream.seek(0)
    stream.truncate()
    return line


@pytest.mark.parametrize("source", ["web-1", 'odd "host"\\ü%d', "tab\there"])
def test_filled_line_is_the_record_emitters_line(
    monkeypatch: pytest.MonkeyPatch, source: str
) -> None:
    """A line format filled with the values is byte for byte the record emitter's line."""
    log, stream = make_logger()
    form = log.line_format(
        "INFO",
        'Sent "100%"',
        {"message_id": Fill.text(f"{source}-"), "subject": "a.%d.b", "size": INT},
        "on_sent",
    )
    assert form is not None
    for seq in (1, 42, 10**12):
        expected = emitted_line(monkeypatch, log, stream, f"{source}-{seq}", "a.%d.b", 7)
        assert form % (*stamp_parts(AT), seq, 7) == expected


def test_head_names_the_caller_module_and_given_function() -> None:
    """The head's module is the caller's; its function the one given, as for emitters."""
    log, _ = make_logger()
    form = log.line_format("WARNING", "m", {}, "handler")
    assert form is not None
    assert b'"module":"test_lines","function":"handler"' in form


@pytest.mark.parametrize("options", [{"fmt": "console"}, {"level": "ERROR"}])
def test_no_format_when_records_are_not_json_lines(options: dict[str, str]) -> None:
    """Console output or a level that is off gives None: the caller uses an emitter then."""
    log, _ = make_logger(**options)
    assert log.line_format("INFO", "m", {"n": INT}) is None


def test_head_field_names_are_refused() -> None:
    """A field named like a head field is refused, as by the record emitter."""
    log, _ = make_logger()
    with pytest.raises(ValueError, match="record head"):
        log.line_format("INFO", "m", {"timestamp": INT})


def test_write_lines_keeps_order_with_records() -> None:
    """Prebuilt lines and records written around them come out in the order written."""
    log, stream = make_logger()
    form = log.line_format("INFO", "fast", {"n": INT})
    assert form is not None
    log.info("slow", n=1)
    log.write_lines(form % (*stamp_parts(AT), 2) + form % (*stamp_parts(AT), 3))
    log.info("slow", n=4)
    log.flush()
    assert [line.split(b'"n":')[1] for line in stream.getvalue().splitlines()] == [
        b"1}",
        b"2}",
        b"3}",
        b"4}",
    ]


def test_constants_are_escaped_for_percent() -> None:
    """A constant containing % stays literal: the format takes only the holes' values."""
    assert line_format({"a": "50%", "n": INT}) % (3,) == b'{"a":"50%","n":3}\n'
