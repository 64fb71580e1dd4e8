"""What the server takes from a fast-ingest publisher that costs next to nothing.

A reference for the JetStream row of `make bench` (not run by CI): one plain blocking socket, all
frames built before the clock starts, one batch acked every `--flow` messages with at most twice
that many unacknowledged, every message with a `Nats-Msg-Id` as ours have. `--burn-us` adds a
busy wait per message before each send, to see how the rate falls as a publisher's own CPU time
grows on the same cores as the server. Prints one line per run. Runs against a throwaway
embedded nats-server unless `--url` is given; its stream (`RAWFI_<tag>`) is deleted afterwards.
"""

from __future__ import annotations

import argparse
import json
import socket
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from nats_pubsub.server.embedded import EmbeddedServer


class _Raw:
    """A NATS connection on a blocking socket: just what this measurement needs."""

    def __init__(self, url: str) -> None:
        where = urlsplit(url)
        self.sock = socket.create_connection((where.hostname or "127.0.0.1", where.port or 4222))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.reader = self.sock.makefile("rb")
        self.reader.readline()  # INFO
        self.inbox = f"_INBOX.{uuid.uuid4().hex}".encode()
        self.sock.sendall(
            b'CONNECT {"verbose":false,"headers":true,"no_responders":true,"protocol":1}\r\n'
            b"SUB %b.> 1\r\n" % self.inbox
        )

    def next_reply(self) -> dict[str, Any]:
        """The next message to our inbox, decoded (server PINGs answered on the way)."""
        while True:
            line = self.reader.readline()
            if line.startswith(b"MSG"):
                size = int(line.split()[-1])
                decoded: dict[str, Any] = json.loads(self.reader.read(size + 2)[:-2])
                return decoded
            if line.startswith(b"PING"):
                self.sock.sendall(b"PONG\r\n")
            elif not line or line.startswith(b"-ERR"):
                raise RuntimeError(f"server said {line!r}")

    def api(self, subject: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        data = json.dumps(body).encode() if body is not None else b""
        self.sock.sendall(
            b"PUB %b %b.api %d\r\n%b\r\n" % (subject.encode(), self.inbox, len(data), data)
        )
        return self.next_reply()


def _frames(args: argparse.Namespace, subject: bytes, head: bytes) -> list[bytes]:
    payload = (b'{"padding":"' + b"x" * 200 + b'"}')[: args.size]
    run = uuid.uuid4().hex[:8].encode()
    frames = []
    for number in range(1, args.msgs + 1):
        reply = b"%b%d.%d.$FI" % (head, number, 0 if number == 1 else 1)
        if args.no_ids:
            frames.append(b"PUB %b %b %d\r\n%b\r\n" % (subject, reply, len(payload), payload))
            continue
        header = b"NATS/1.0\r\nNats-Msg-Id: raw-%d@%b\r\n\r\n" % (number, run)
        total = len(header) + len(payload)
        frames.append(
            b"HPUB %b %b %d %d\r\n%b%b\r\n" % (subject, reply, len(header), total, header, payload)
        )
    return frames


def _acked(reply: dict[str, Any], acked: int) -> int:
    """The highest message number stored after `reply` (a flow ack or the final reply)."""
    if reply.get("type") == "ack":
        return max(acked, int(reply["seq"]))
    if "count" in reply and "error" not in reply:
        return int(reply["count"])
    raise RuntimeError(f"batch failed: {reply}")


def measure(url: str, args: argparse.Namespace) -> float:
    """One run's rate in msg/s, from the first send to the final reply."""
    raw = _Raw(url)
    tag = uuid.uuid4().hex[:8]
    stream, subject = f"RAWFI_{tag.upper()}", f"rawfi.{tag}"
    config = {"name": stream, "subjects": [subject], "storage": "file", "allow_batched": True}
    created = raw.api(f"$JS.API.STREAM.CREATE.{stream}", config)
    if "error" in created:
        raise RuntimeError(f"stream not created: {created['error']}")
    head = b"%b.b%b.%d.fail." % (raw.inbox, tag.encode(), args.flow)
    frames = _frames(args, subject.encode(), head)
    burn = args.burn_us / 1e6
    started = time.perf_counter()
    sent, acked, confirmed = 0, 0, False
    while sent < args.msgs:
        room = 1 if not confirmed else acked + 2 * args.flow - sent
        if room <= 0 or (sent and not confirmed):
            acked, confirmed = _acked(raw.next_reply(), acked), True
            continue
        take = min(room, args.msgs - sent)
        if burn:
            until = time.perf_counter() + burn * take
            while time.perf_counter() < until:
                pass
        raw.sock.sendall(b"".join(frames[sent : sent + take]))
        sent += take
    raw.sock.sendall(b"PUB %b %b%d.3.$FI 0\r\n\r\n" % (subject.encode(), head, args.msgs + 1))
    while True:  # flow acks may come first; the final reply counts what the batch stored
        reply = raw.next_reply()
        acked = _acked(reply, acked)
        if "count" in reply:
            break
    if acked < args.msgs:
        raise RuntimeError(f"the stream stored {acked} of {args.msgs}")
    seconds = time.perf_counter() - started
    raw.api(f"$JS.API.STREAM.DELETE.{stream}")
    raw.sock.close()
    return args.msgs / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", help="a running server (default: a throwaway embedded one)")
    parser.add_argument("--msgs", type=int, default=200_000)
    parser.add_argument("--size", type=int, default=220, help="payload bytes")
    parser.add_argument("--flow", type=int, default=256, help="messages per ack (our --window)")
    parser.add_argument("--no-ids", action="store_true", help="no Nats-Msg-Id headers")
    parser.add_argument("--burn-us", type=float, default=0.0, help="busy µs per message")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    def report(url: str) -> None:
        for _ in range(args.runs):
            rate = measure(url, args)
            print(
                f"raw fast ingest: {rate:,.0f} msg/s (flow {args.flow}, "
                f"{'no ids' if args.no_ids else 'ids'}, burn {args.burn_us:g} µs/msg)"
            )

    if args.url:
        report(args.url)
        return
    with tempfile.TemporaryDirectory() as store, EmbeddedServer(store_dir=Path(store)) as server:
        report(server.url)


if __name__ == "__main__":
    main()
