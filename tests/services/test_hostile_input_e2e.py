"""End to end: what hostile messages cannot do to a subscriber or a monitor.

Memory stays bounded whatever arrives (new sources, new unknown fields, new subjects without
end), one message cannot flood the log, and no record carries an unbounded string.
"""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from nats_pubsub.domain.timeutil import now_timestamp
from nats_pubsub.logs.bounds import CUT_MARK, MAX_FIELD_CHARS
from nats_pubsub.server.embedded import EmbeddedServer
from nats_pubsub.testing import ServiceProcess
from tests.helpers.fixtures import CliFactory, free_port, publish_raw
from tests.helpers.messages import hostile_event
from tests.helpers.metrics import eventually, get, scrape

pytestmark = pytest.mark.e2e

FLOOD = 200_000  # messages, each from a new source with a new unknown field, on a new subject
BATCH = 10_000  # published at once, then waited for: memory measured is the service's own
RSS_GROWTH_LIMIT = 40 * 1024 * 1024


def _rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError(f"no VmRSS for {pid}")


class RawPublisher:
    """A plain socket speaking the NATS protocol: the cheapest way to send a flood."""

    def __init__(self, port: int) -> None:
        self._sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        self._file = self._sock.makefile("rb")
        assert self._file.readline().startswith(b"INFO ")
        self._sock.sendall(b'CONNECT {"verbose":false,"pedantic":false}\r\n')

    def publish(self, frames: list[tuple[str, bytes]]) -> None:
        """Send `(subject, payload)` frames, then PING; return once the server answered PONG."""
        data = b"".join(
            b"PUB %s %d\r\n%s\r\n" % (subject.encode(), len(payload), payload)
            for subject, payload in frames
        )
        self._sock.sendall(data + b"PING\r\n")
        while (line := self._file.readline()) != b"PONG\r\n":
            assert line, "the server closed the connection"

    def close(self) -> None:
        self._file.close()
        self._sock.close()


def _flood(
    server: EmbeddedServer, proc: ServiceProcess, base: str, counted: str
) -> tuple[int, int, dict[str, float]]:
    """Send FLOOD hostile messages in batches, each batch waited for through `counted` in
    /metrics; the idle and final RSS and the last scrape."""
    idle = _rss_bytes(proc.process.pid)
    publisher = RawPublisher(server.port)
    try:
        stamp = now_timestamp()
        for start in range(0, FLOOD, BATCH):
            frames = [
                (f"flood.s{n}", hostile_event(1, f"s{n}", stamp, **{f"u{n}": n}))
                for n in range(start, start + BATCH)
            ]
            publisher.publish(frames)
            sent = start + BATCH

            def caught_up(sent: int = sent) -> dict[str, float] | None:
                """the service has taken every message sent so far"""
                values = scrape(base)
                total = sum(v for k, v in values.items() if k.startswith(counted))
                return values if total >= sent else None

            values = eventually(caught_up, timeout=120)
    finally:
        publisher.close()
    assert proc.process.poll() is None, proc.output()
    return idle, _rss_bytes(proc.process.pid), values


@pytest.mark.parametrize(
    ("command", "counted"),
    [
        ("subscribe", "nats_pubsub_received_messages_total{"),
        ("monitor", "nats_pubsub_captured_by_level_total{"),
    ],
)
def test_memory_stays_bounded_under_a_flood_of_new_sources_and_fields(
    nats_server: EmbeddedServer, run_cli: CliFactory, command: str, counted: str
) -> None:
    """200,000 messages, each with a new source, a new unknown field and a new subject: the
    service keeps running, stays within 40 MB of its idle RSS, and reports what it forgot."""
    port = free_port()
    proc = run_cli(
        command,
        "--subject",
        "flood.>",
        "--metrics-port",
        str(port),
        "--metrics-host",
        "127.0.0.1",
        url=nats_server.url,
        env={"LOG_LEVEL": "ERROR"},  # the work per message is done; 400k lines are not read here
    )
    base = f"http://127.0.0.1:{port}"
    eventually(lambda: get(f"{base}/readyz")[0] == 200 if _listening(port) else None)
    idle, final, values = _flood(nats_server, proc, base, counted)
    growth = final - idle
    shown = f"RSS grew {growth / 2**20:.1f} MiB (idle {idle / 2**20:.1f} MiB)"
    assert growth <= RSS_GROWTH_LIMIT, shown
    assert get(f"{base}/readyz")[0] == 200
    if command == "subscribe":
        assert values["nats_pubsub_received_messages_total{service=subscriber,status=valid}"] == (
            FLOOD
        )
        assert values["nats_pubsub_tracked_sources{service=subscriber}"] == 10_000
        assert values["nats_pubsub_sources_evicted_total{service=subscriber}"] == FLOOD - 10_000
    proc.signal()
    assert proc.wait() == 0, proc.output()


def _listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return False
    return True


def test_a_message_with_70000_unknown_keys_is_one_warning(
    nats_server: EmbeddedServer, run_cli: CliFactory, subject: str
) -> None:
    """A 759 KB message with 70,000 unknown keys: one WARNING listing the first 10 names (it
    was 70,000 records); the service goes on."""
    sub = run_cli("subscribe", "--subject", subject, url=nats_server.url)
    sub.logs.wait_for("Subscribed")
    stamp = now_timestamp()
    keys = {f"k{n}": 1 for n in range(70_000)}
    hostile = hostile_event(1, "peer", stamp, **keys)
    assert len(hostile) > 700_000
    publish_raw(nats_server.url, subject, [hostile, hostile_event(2, "peer", stamp)])
    sub.logs.wait_for("Message received", count=2)
    [warning] = sub.logs.where("Unknown field in message")
    assert warning["fields"] == [f"k{n}" for n in range(10)]
    assert warning["new_fields"] == 1024
    sub.signal()
    assert sub.wait() == 0, sub.output()
    assert len(sub.logs.where("Unknown field in message")) == 1


def test_long_strings_are_cut_in_every_record(
    nats_server: EmbeddedServer, run_cli: CliFactory
) -> None:
    """A 3,000-character subject, a 480 KB unknown field name, a 100 KB header: every record
    of the subscriber and the monitor holds at most 1,024 characters of any of them."""
    long_subject = "hostile." + "s" * 3000
    sub = run_cli("subscribe", "--subject", "hostile.>", url=nats_server.url)
    mon = run_cli("monitor", "--subject", "hostile.>", url=nats_server.url)
    sub.logs.wait_for("Subscribed")
    mon.logs.wait_for("Subscribed")
    stamp = now_timestamp()
    publish_raw(
        nats_server.url, long_subject, [hostile_event(1, "peer", stamp, **{"n" * 480_000: 1})]
    )
    _publish_with_header(nats_server.url, long_subject, "h" * 100_000)
    sub.logs.wait_for("Message received", count=2)
    mon.logs.wait_for("Message captured", count=2)
    for proc in (sub, mon):
        proc.signal()
        assert proc.wait() == 0, proc.output()
        for line in proc.logs.raw:
            assert len(line) < 12_000, f"{len(line)} characters: {line[:300]}"
    [warning] = sub.logs.where("Unknown field in message")
    assert warning["fields"] == ["n" * 128 + CUT_MARK]
    cut = long_subject[:MAX_FIELD_CHARS] + CUT_MARK
    assert all(r["subject"] == cut for r in sub.logs.where("Message received"))
    captured = mon.logs.where("Message captured")
    assert all(r["subject"].startswith("hostile.sss") for r in captured)
    assert all(len(r["subject"]) <= 4096 + len(CUT_MARK) for r in captured)
    assert captured[1]["headers"]["X-Hostile"] == "h" * 4096 + CUT_MARK


def _publish_with_header(url: str, subject: str, value: str) -> None:
    import asyncio

    import nats

    async def go() -> None:
        nc = await nats.connect(url)
        stamp = now_timestamp()
        await nc.publish(subject, hostile_event(2, "peer", stamp), headers={"X-Hostile": value})
        await nc.flush()
        await nc.drain()

    asyncio.run(go())
