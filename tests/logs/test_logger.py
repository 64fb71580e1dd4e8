"""Tests for nats_pubsub.logs.logger: JSON and console records, levels and the batching sink."""

from __future__ import annotations

import asyncio
import base64
import io
import json
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import msgspec
import pytest

from nats_pubsub.logs.logger import Logger, LogSink, render_console, write_all

STAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z")


def make_logger(**options: Any) -> tuple[Logger, io.BytesIO]:
    """A logger named 'test' writing to an in-memory stream."""
    stream = io.BytesIO()
    return Logger("test", LogSink(stream), **options), stream


def recorded_writes(stream: io.BytesIO) -> list[bytes]:
    """The data of each write to `stream` from now on, in order."""
    writes: list[bytes] = []
    original = stream.write

    def recording_write(data: Any) -> int:
        writes.append(bytes(data))
        return original(data)

    stream.write = recording_write  # type: ignore[method-assign]
    return writes


def records(stream: io.BytesIO) -> list[dict[str, Any]]:
    """The JSON records written to `stream`."""
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_json_record_head_fields() -> None:
    """A record starts with timestamp, level, logger, message, module and function."""
    log, stream = make_logger()
    log.info("Message published", subject="events.test", sequence=3)
    (record,) = records(stream)
    assert list(record)[:6] == ["timestamp", "level", "logger", "message", "module", "function"]
    assert STAMP.fullmatch(record["timestamp"])
    assert record["level"] == "INFO"
    assert record["logger"] == "test"
    assert record["message"] == "Message published"


def test_json_record_names_calling_function_and_module() -> None:
    """module and function name the code that called the logger."""
    log, stream = make_logger()
    log.warning("hello")
    (record,) = records(stream)
    assert record["module"] == "test_logger"
    assert record["function"] == "test_json_record_names_calling_function_and_module"


def test_log_method_names_its_caller() -> None:
    """Calling log() directly with the default depth names the caller too."""
    log, stream = make_logger()
    log.log("ERROR", "direct", {})
    assert records(stream)[0]["function"] == "test_log_method_names_its_caller"


def test_json_fields_at_top_level() -> None:
    """Event fields follow the head fields at the top level of the record."""
    log, stream = make_logger()
    log.info("m", subject="events.test", sequence=3, extra={"k": [1]})
    (record,) = records(stream)
    assert list(record)[6:] == ["subject", "sequence", "extra"]
    assert record["subject"] == "events.test"
    assert record["sequence"] == 3
    assert record["extra"] == {"k": [1]}


def test_one_line_per_record() -> None:
    """Each record is one newline-terminated line."""
    log, stream = make_logger()
    log.info("a")
    log.info("b")
    assert stream.getvalue().count(b"\n") == 2
    assert stream.getvalue().endswith(b"\n")


@pytest.mark.parametrize(
    ("level", "written"),
    [
        ("DEBUG", ["DEBUG", "INFO", "WARNING", "ERROR"]),
        ("INFO", ["INFO", "WARNING", "ERROR"]),
        ("WARNING", ["WARNING", "ERROR"]),
        ("ERROR", ["ERROR"]),
    ],
)
def test_level_filtering(level: str, written: list[str]) -> None:
    """Only records at or above the logger's level are written."""
    log, stream = make_logger(level=level)
    log.debug("d")
    log.info("i")
    log.warning("w")
    log.error("e")
    assert [record["level"] for record in records(stream)] == written
    assert log.is_enabled("ERROR")
    assert log.is_enabled("DEBUG") is (level == "DEBUG")


def test_child_shares_sink_and_level() -> None:
    """A child logger has its own name but the parent's sink and level."""
    log, stream = make_logger(level="WARNING")
    child = log.child("child")
    child.info("dropped")
    child.error("kept")
    (record,) = records(stream)
    assert (record["logger"], record["message"]) == ("child", "kept")


def test_console_format_renders_key_values() -> None:
    """The console format prints time, level, logger, message and key=value pairs."""
    log, stream = make_logger(fmt="console")
    log.info("Message received", subject="events.test", sequence=3, note="two words")
    line = stream.getvalue().decode()
    assert line.endswith("\n")
    assert " INFO    test: Message received  " in line
    assert 'subject=events.test sequence=3 note="two words"' in line
    assert "{" not in line
    assert "function=" not in line


def test_console_line_has_clock() -> None:
    """render_console shows the time of day to milliseconds."""
    record = {"timestamp": "2024-01-02T03:04:05.678901Z", "level": "ERROR", "message": "m"}
    assert render_console(record, color=False).startswith("03:04:05.678 ERROR ")


def test_console_color_wraps_level() -> None:
    """With colour on, the level is wrapped in an ANSI colour and reset."""
    line = render_console({"level": "WARNING", "message": "m"}, color=True)
    assert "\x1b[33mWARNING\x1b[0m" in line


def test_console_value_with_newline_stays_on_one_line() -> None:
    """A field value containing a newline does not break the one-line console record."""
    line = render_console({"level": "INFO", "message": "m", "preview": "a\nb"}, color=False)
    assert "\n" not in line


CAPTURED = {
    "timestamp": "2024-01-02T03:04:05.678901Z",
    "level": "INFO",
    "logger": "message-logger",
    "message": "Message captured",
    "module": "monitor",
    "function": "on_message",
    "subject": "events.test",
    "reply_to": None,
    "size_bytes": 231,
    "headers": {"Nats-Msg-Id": "publisher-1"},
    "status": "success",
    "event_type": "user.logout",
    "message_id": "publisher-1",
    "payload": {"message_id": "publisher-1", "data": {"description": "x" * 300}},
}


def test_console_captured_message_fits_the_width() -> None:
    """Given a width, a captured message shows its extracted fields and a payload cut to fit."""
    line = render_console(CAPTURED, color=False, width=200)
    assert len(line) == 200
    assert "subject=events.test size_bytes=231 status=success event_type=user.logout" in line
    assert "message_id=publisher-1 payload={" in line
    assert line.endswith("…")
    assert "reply_to" not in line  # nothing to say


def test_console_line_cut_when_even_the_fields_are_too_wide() -> None:
    """A terminal narrower than the fields: the line is cut at the width, not wrapped."""
    line = render_console(CAPTURED, color=True, prefix="logger     │ ", width=70)
    plain = line.replace("\x1b[32m", "").replace("\x1b[0m", "").removeprefix("logger     │ ")
    assert len(plain) == 70
    assert plain.endswith("…")


def test_console_without_width_or_payload_is_whole() -> None:
    """No width (not a terminal): the whole record; a record with no payload is never cut."""
    whole = render_console(CAPTURED, color=False)
    assert '"description":"' + "x" * 300 in whole
    assert "reply_to=null" in whole
    metrics = {"level": "INFO", "message": "Monitor metrics", "subjects": ["s" * 50] * 5}
    assert render_console(metrics, color=False, width=80) == render_console(metrics, color=False)


def test_sink_flushes_immediately_outside_loop() -> None:
    """Outside an event loop every record is written at once."""
    log, stream = make_logger()
    log.info("now")
    assert stream.getvalue()


def test_sink_flushes_once_per_loop_turn() -> None:
    """Inside an event loop records are written together at the end of the loop turn."""
    log, stream = make_logger()
    writes = recorded_writes(stream)

    async def main() -> None:
        for index in range(3):
            log.info("batched", index=index)
        assert stream.getvalue() == b""
        await asyncio.sleep(0)
        assert [record["index"] for record in records(stream)] == [0, 1, 2]

    asyncio.run(main())
    assert len(writes) == 1


def test_sink_not_stuck_after_loop_stops_before_flush() -> None:
    """Records written in a loop that stopped before its flush still reach the stream later."""
    log, stream = make_logger()
    loop = asyncio.new_event_loop()
    try:
        loop.call_soon(log.info, "inside")
        loop.call_soon(loop.stop)
        loop.run_forever()
    finally:
        loop.close()
    log.info("outside")
    assert [record["message"] for record in records(stream)] == ["inside", "outside"]


def test_record_emitter_writes_at_once_outside_loop() -> None:
    """Outside an event loop a record emitter's record is written at once."""
    log, stream = make_logger()
    log.record_emitter("INFO", "now", ("n",))(1)
    assert records(stream)[0]["n"] == 1


def test_record_emitter_flushes_once_per_loop_turn() -> None:
    """Records emitted in one loop turn are written together, in one write, at its end."""
    log, stream = make_logger()
    emit = log.record_emitter("INFO", "m", ("n",))
    writes = recorded_writes(stream)

    async def main() -> None:
        for n in range(3):
            emit(n)
        await asyncio.sleep(0)

    asyncio.run(main())
    assert len(writes) == 1
    assert [record["n"] for record in records(stream)] == [0, 1, 2]


def test_flush_writes_pending_records() -> None:
    """Logger.flush writes records still queued inside a loop turn."""
    log, stream = make_logger()

    async def main() -> None:
        log.info("queued")
        log.flush()
        assert records(stream)[0]["message"] == "queued"

    asyncio.run(main())


def test_sink_survives_closed_stream() -> None:
    """Writing to a closed stream is swallowed, not raised."""
    log, stream = make_logger()
    stream.close()
    log.info("nobody listens")


@pytest.mark.parametrize(
    ("value", "expected"),
    [(Path("/tmp/x"), "/tmp/x"), (ValueError("boom"), "boom"), (object, "<class 'object'>")],
)
def test_odd_values_json(value: object, expected: object) -> None:
    """Paths, exceptions and other objects JSON has no type for render as their text."""
    log, stream = make_logger()
    log.info("odd", value=value)
    assert records(stream)[0]["value"] == expected


def test_bytes_value_renders_as_base64() -> None:
    """bytes are written as base64, JSON's lossless form for binary data."""
    log, stream = make_logger()
    log.info("odd", value=b"raw\xffbytes")
    assert base64.b64decode(records(stream)[0]["value"]) == b"raw\xffbytes"


@pytest.mark.parametrize("value", [b"\xff", Path("p"), RuntimeError("x"), object(), None])
def test_odd_values_console(value: object) -> None:
    """Odd value types render on a console line without raising."""
    log, stream = make_logger(fmt="console")
    log.info("odd", value=value)
    assert b"value=" in stream.getvalue()


def test_record_emitter_writes_the_same_json_as_emitter() -> None:
    """A positional record emitter writes the record a dict emitter would, key order included."""
    log, stream = make_logger()
    by_dict = log.emitter("INFO", "same", "f")
    by_values = log.record_emitter("INFO", "same", ("a", "b", "c"), "f")
    by_dict({"a": 1, "b": "two", "c": None})
    by_values(1, "two", None)
    first, second = stream.getvalue().splitlines()
    assert first.split(b'"level"')[1] == second.split(b'"level"')[1]


def test_record_emitter_leaves_out_unset_values() -> None:
    """A record value of msgspec.UNSET leaves its field out, as a dict without the key would."""
    log, stream = make_logger()
    log.emitter("INFO", "same", "f")({"a": 1, "c": None})
    log.record_emitter("INFO", "same", ("a", "b", "c"), "f")(1, msgspec.UNSET, None)
    first, second = stream.getvalue().splitlines()
    assert first.split(b'"level"')[1] == second.split(b'"level"')[1]


def test_console_record_emitter_leaves_out_unset_values() -> None:
    """On the console too, a msgspec.UNSET value leaves its field out."""
    log, stream = make_logger(fmt="console")
    log.record_emitter("INFO", "same", ("a", "b"), "f")(1, msgspec.UNSET)
    line = stream.getvalue().decode()
    assert "a=1" in line
    assert "b=" not in line


def test_records_and_lines_keep_their_order_in_a_loop() -> None:
    """Records queued unencoded and plain lines come out in the order they were written."""
    log, stream = make_logger()
    emit = log.record_emitter("INFO", "fast", ("n",))

    async def main() -> None:
        emit(1)
        log.info("slow", n=2)
        emit(3)
        emit(4)
        log.info("slow", n=5)
        await asyncio.sleep(0)

    asyncio.run(main())
    assert [r["n"] for r in records(stream)] == [1, 2, 3, 4, 5]


def test_many_records_in_one_turn_are_written_in_chunks() -> None:
    """A long burst of records in one loop turn is written before the turn ends, in order."""
    log, stream = make_logger()
    emit = log.record_emitter("INFO", "burst", ("n",))

    async def main() -> None:
        for n in range(1000):
            emit(n)
        assert stream.getvalue()  # flushed on the way, not held for the whole turn
        await asyncio.sleep(0)

    asyncio.run(main())
    assert [r["n"] for r in records(stream)] == list(range(1000))


def test_record_queued_in_a_stopped_loop_is_not_stuck() -> None:
    """A record queued in a loop that stopped before its flush is written by the next one."""
    log, stream = make_logger()
    emit = log.record_emitter("INFO", "fast", ("n",))
    loop = asyncio.new_event_loop()
    try:
        loop.call_soon(emit, 1)
        loop.call_soon(loop.stop)
        loop.run_forever()
    finally:
        loop.close()
    emit(2)
    assert [r["n"] for r in records(stream)] == [1, 2]


def test_record_emitter_refuses_head_field_names() -> None:
    """A record field named like a head field (e.g. message) is refused up front."""
    log, _ = make_logger()
    with pytest.raises(ValueError, match="record head"):
        log.record_emitter("INFO", "x", ("message",))


class _Trickle(io.BytesIO):
    """A stream that takes at most 7 bytes per write, as a pipe interrupted by signals may."""

    def write(self, data: Any) -> int:
        assert isinstance(data, bytes)  # streams like our bench's counting sink take bytes only
        return super().write(data[:7])


def test_write_all_finishes_short_writes() -> None:
    """A write that returns a short count is continued until every byte is out."""
    stream = _Trickle()
    write_all(stream, b"0123456789" * 10)
    assert stream.getvalue() == b"0123456789" * 10


_SIGNALLED_WRITER = """
import asyncio, signal
from nats_pubsub.logs.logger import Logger, stdout_sink
log = Logger("t", stdout_sink())
async def main():
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, lambda: None)
    emit = log.record_emitter("INFO", "line", ("n",))
    for n in range(50_000):
        emit(n)
    log.flush()
asyncio.run(main())
"""


def test_signal_during_a_blocked_write_loses_no_line() -> None:
    """SIGTERM while the sink is blocked on a full pipe: every line still reaches the reader."""
    proc = subprocess.Popen(
        [sys.executable, "-c", _SIGNALLED_WRITER], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    wchan = Path(f"/proc/{proc.pid}/wchan")
    deadline = time.monotonic() + 60
    while "pipe" not in wchan.read_text():  # blocked writing into the full pipe
        assert time.monotonic() < deadline, "the writer never blocked on the pipe"
        time.sleep(0.01)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert [json.loads(line)["n"] for line in out.splitlines()] == list(range(50_000))
