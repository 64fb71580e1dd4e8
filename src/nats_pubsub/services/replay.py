"""`nats-pubsub replay`: read a stream's history once, in order, through an ephemeral consumer.

One JSON object per message (subject, sequence, time, headers, payload) goes to stdout or a file;
progress and the summary go to stderr, so the output can be piped as it is. Messages come from
`replay_feed.ReplayFeed` (pull batches read by direct delivery); each line is built as text, a
valid one-line JSON payload embedded verbatim, and the lines are written once per event-loop turn.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time
from typing import IO, Any, NamedTuple

from nats_pubsub.config import ReplaySettings
from nats_pubsub.config.client import connect_options
from nats_pubsub.connection.connect import ConnectLimit, connect
from nats_pubsub.connection.core import Connection
from nats_pubsub.connection.js_streams import JetStream, retry_busy
from nats_pubsub.connection.replay_feed import MessageSink, ReplayFeed
from nats_pubsub.domain.stream_rules import ReplayStart, parse_replay, since_ns, subjects_overlap
from nats_pubsub.domain.timeutil import format_ns
from nats_pubsub.errors import NatsError
from nats_pubsub.logs.logger import Logger
from nats_pubsub.services.replay_output import OriginalPace, Progress, Writer, only_last

__all__ = ["StreamChoice", "batch_size", "choose_stream", "replay_start", "run_replay"]

_BATCH = 4000  # messages per pull request (one to two requests are outstanding)
_BATCH_BYTES = 8 * 1024 * 1024  # ... and about this many bytes per request at most
_PACED_BATCH = 100  # --speed original: a short queue, pulled as it is written


class StreamChoice(NamedTuple):
    """The stream to replay, or why none was chosen and the exit code that goes with it."""

    name: str | None
    problem: str = ""
    exit_code: int = 0


def choose_stream(filter_subject: str | None, streams: dict[str, list[str]]) -> StreamChoice:
    """Without --stream: the one stream holding --subject, else the only stream there is; when
    that is not one stream, say which exist and ask for --stream (exit 2; 1 when none exist)."""
    if not streams:
        return StreamChoice(None, "the server has no streams: nothing to replay", 1)
    listed = ", ".join(
        f"{name} ({', '.join(subjects)})" for name, subjects in sorted(streams.items())
    )
    if filter_subject is None:
        if len(streams) == 1:
            return StreamChoice(next(iter(streams)))
        return StreamChoice(None, f"choose a stream with --stream: {listed}", 2)
    holding = sorted(
        name
        for name, subjects in streams.items()
        if any(subjects_overlap(pattern, filter_subject) for pattern in subjects)
    )
    if len(holding) == 1:
        return StreamChoice(holding[0])
    if holding:
        return StreamChoice(
            None, f"{filter_subject} is in {', '.join(holding)}: choose one with --stream", 2
        )
    return StreamChoice(None, f"no stream holds {filter_subject}: streams are {listed}", 2)


def replay_start(settings: ReplaySettings, first_seq: int, last_seq: int) -> ReplayStart:
    """Where the replay starts, from --since / --start-seq / --last (default: the beginning)."""
    if settings.since is not None:
        return ReplayStart(
            "by_start_time", start_time_ns=since_ns(settings.since), text=f"since:{settings.since}"
        )
    if settings.start_seq is not None:
        return parse_replay(f"seq:{settings.start_seq}")
    if settings.last is not None and settings.filter_subject is None:
        return parse_replay(f"seq:{max(first_seq, last_seq - settings.last + 1, 1)}")
    return parse_replay("all")


def batch_size(state: dict[str, int]) -> int:
    """Messages per pull request: `_BATCH`, fewer for large messages (by the stream's average)."""
    average = state.get("bytes", 0) // max(state.get("messages", 0), 1)
    return max(16, min(_BATCH, _BATCH_BYTES // max(average, 1)))


def _open_output(settings: ReplaySettings) -> IO[bytes]:
    return open(settings.output, "wb") if settings.output else sys.stdout.buffer


def _pacing_failed(task: asyncio.Future[None], feed: ReplayFeed) -> None:
    if not task.cancelled() and task.exception() is not None:
        feed.fail(NatsError(f"writing the output failed: {task.exception()}"))


async def _until(task: asyncio.Future[None], stop: asyncio.Event) -> None:
    stopped: asyncio.Future[Any] = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait([task, stopped], return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopped.cancel()


class _Replay:
    """One replay's moving parts: the output's writer, the pacer of --speed original, the
    feed; `close` leaves nothing behind (consumer, output, connection)."""

    def __init__(self, conn: Connection, settings: ReplaySettings, log: Logger) -> None:
        self.conn, self.settings, self.js = conn, settings, JetStream(conn, log)
        self.out = _open_output(settings)
        self.progress = Progress(sys.stderr)
        self.writer = Writer(self.out, self.progress)
        paced = settings.speed == "original"
        self.pacer = OriginalPace(self.writer.add, high_water=2 * _PACED_BATCH) if paced else None
        sink: MessageSink = self.pacer.add if self.pacer is not None else self.writer.add
        if settings.filter_subject and settings.last:
            sink = only_last(sink, settings.last)
        self.sink = sink
        self.pacing: asyncio.Future[None] | None = None
        self.feed: ReplayFeed | None = None

    async def choose(self) -> StreamChoice:
        """Without --stream: the stream holding --subject, else the only one (`choose_stream`)."""
        infos = await retry_busy(self.js.stream_infos, self.js.log, "streams")
        streams = {i["config"]["name"]: i["config"].get("subjects") or [] for i in infos}
        return choose_stream(self.settings.filter_subject, streams)

    async def run(self, name: str, stop: asyncio.Event) -> None:
        """Write stream `name`'s selected history (following it until `stop` with --follow);
        raises NatsError when the stream or the output fails."""
        settings, pacer, writer = self.settings, self.pacer, self.writer
        state = await retry_busy(lambda: self.js.stream_state(name), self.js.log, f"stream {name}")
        start = replay_start(settings, state["first_seq"], state["last_seq"])
        batch = _PACED_BATCH if pacer is not None else batch_size(state)
        feed = self.feed = ReplayFeed(
            self.conn,
            self.js,
            name,
            settings.filter_subject,
            start,
            self.sink,
            follow=settings.follow,
            batch=batch,
        )
        writer.on_error = feed.fail
        if pacer is not None:
            pacer.feed = feed
            pacing = self.pacing = asyncio.ensure_future(pacer.run())
            pacing.add_done_callback(lambda task: _pacing_failed(task, feed))
        await feed.open()
        await feed.wait(stop)
        if pacer is not None and self.pacing is not None:
            pacer.end()
            await _until(self.pacing, stop)
            ended = self.pacing
            if ended.done() and not ended.cancelled() and ended.exception() is not None:
                raise NatsError(f"writing the output failed: {ended.exception()}")
        writer.flush()
        if writer.error is not None:
            raise writer.error
        self.progress.end()

    async def close(self) -> None:
        """Stop pacing, delete the consumer, write what is left, close the output, drain."""
        if self.pacing is not None:
            self.pacing.cancel()
        if self.feed is not None:
            await self.feed.close()
        self.writer.flush()
        with contextlib.suppress(OSError, ValueError):  # already reported as "Replay failed"
            self.out.flush()
            if self.settings.output:
                self.out.close()
        await self.conn.drain()

    def summary(self, seconds: float) -> dict[str, Any]:
        """The `Replay finished` fields about what was written."""
        writer = self.writer
        first, last = writer.first, (writer.last_seq, writer.last_ns) if writer.count else None
        return {
            "count": writer.count,
            "first_sequence": first[0] if first else None,
            "last_sequence": last[0] if last else None,
            "first_time": format_ns(first[1]) if first else None,
            "last_time": format_ns(last[1]) if last else None,
            "seconds": round(seconds, 3),
            "messages_per_second": round(writer.count / seconds, 1) if seconds > 0 else 0.0,
        }


async def run_replay(settings: ReplaySettings, log: Logger, stop: asyncio.Event) -> int:
    """Write the selected history, then a summary; exit 0 (1 when the stream is unusable)."""
    limit = ConnectLimit(settings.connect_timeout, "--connect-timeout")
    client_name = f"replay-{settings.hostname}"
    try:
        conn = await connect(
            connect_options(settings), name=client_name, log=log, stop=stop, limit=limit, quiet=True
        )
    except NatsError as exc:
        log.error("Could not connect to NATS", error=str(exc))
        return 0 if stop.is_set() else 1
    started = time.monotonic()
    replay = _Replay(conn, settings, log)
    name = settings.stream_name
    try:
        if name is None:
            choice = await replay.choose()
            if choice.name is None:
                log.error("Replay failed", stream=None, error=choice.problem)
                return choice.exit_code
            name = choice.name
        await replay.run(name, stop)
    except NatsError as exc:
        log.error("Replay failed", stream=name, error=str(exc))
        return 1
    finally:
        await replay.close()
    log.info(
        "Replay finished",
        stream=name,
        subject=settings.filter_subject,
        **replay.summary(time.monotonic() - started),
        output=str(settings.output) if settings.output else "stdout",
    )
    return 0
