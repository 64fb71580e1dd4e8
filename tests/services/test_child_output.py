"""A child's output is read as lines of any length: nothing blocks it, memory stays bounded."""

from __future__ import annotations

import asyncio
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nats_pubsub.domain.timeutil import now_timestamp
from nats_pubsub.server.embedded import EmbeddedServer
from nats_pubsub.services.child_output import Line, LineSplitter, pump
from tests.helpers.fixtures import CliFactory


@given(
    text=st.lists(st.binary(max_size=30).map(lambda b: b.replace(b"\n", b"")), max_size=20),
    cuts=st.lists(st.integers(0, 400), max_size=10),
)
def test_lines_come_out_whole_however_the_bytes_are_chunked(
    text: list[bytes], cuts: list[int]
) -> None:
    """Any chunking of the same bytes gives the same lines, none cut."""
    data = b"".join(line + b"\n" for line in text)
    splitter = LineSplitter(max_bytes=64)
    out: list[Line] = []
    start = 0
    for cut in sorted(cuts):
        out += splitter.feed(data[start:cut])
        start = max(start, cut)
    out += splitter.feed(data[start:]) + splitter.finish()
    assert [line.data for line in out] == [line + b"\n" for line in text]
    assert all(line.dropped == 0 for line in out)


def test_a_long_line_is_cut_and_says_how_much() -> None:
    """A line over the limit keeps its head and counts what was dropped; the next is whole."""
    splitter = LineSplitter(max_bytes=10)
    lines = splitter.feed(b"a" * 25) + splitter.feed(b"a" * 5 + b"\nnext\nla") + splitter.finish()
    assert lines == [Line(b"a" * 10 + b"\n", 20), Line(b"next\n", 0), Line(b"la\n", 0)]


def test_pump_reads_a_child_past_a_5_mb_line() -> None:
    """A real child writes a 5 MB line, then 3,000 lines, then exits: all read, none blocked."""

    async def run() -> tuple[list[Line], int]:
        child = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            "import sys; sys.stdout.write('x' * 5_000_000 + '\\n')\nfor n in range(3000): print(n)",
            stdout=asyncio.subprocess.PIPE,
        )
        assert child.stdout is not None
        lines: list[Line] = []
        started = asyncio.Event()
        await asyncio.wait_for(pump(child.stdout, lines.append, started, 1 << 20), 60)
        return lines, await asyncio.wait_for(child.wait(), 60)

    lines, code = asyncio.run(run())
    assert code == 0
    assert lines[0] == Line(b"x" * (1 << 20) + b"\n", 5_000_000 - (1 << 20))
    assert [line.data for line in lines[1:]] == [f"{n}\n".encode() for n in range(3000)]


def _publish_with_headers(url: str, subject: str, headers: dict[str, str]) -> None:
    import nats

    async def go() -> None:
        nc = await nats.connect(url)
        payload = b'{"transaction_id":"t","status":"accepted","timestamp":"%s"}' % (
            now_timestamp().encode()
        )
        await nc.publish(subject, payload, headers=headers or None)
        await nc.flush()
        await nc.drain()

    asyncio.run(go())


@pytest.mark.e2e
def test_up_keeps_showing_a_service_after_a_150_kb_line(
    nats_server: EmbeddedServer, run_cli: CliFactory
) -> None:
    """The logger's record of a message with 2,000 headers is a 150 KB line: `up` shows it
    and goes on showing that service (it used to stop reading it for good at 64 KiB)."""
    up = run_cli("up", url=nats_server.url)
    up.logs.wait_for("Stack running; press Ctrl+C to stop")
    many = {f"X-Header-{n}": "v" * 60 for n in range(2000)}
    _publish_with_headers(nats_server.url, "payments.hostile", many)
    _publish_with_headers(nats_server.url, "payments.after", {})
    up.logs.wait_for(lambda r: r.get("subject") == "payments.after", timeout=60)
    [big] = [line for line in up.logs.raw if "X-Header-1999" in line]
    assert len(big) > 150_000
    up.signal()
    assert up.wait(60) == 0, up.output()[-3000:]
