"""`nats-pubsub replay`: read a stream's history once, in order, through an ephemeral consumer.

One JSON object per message (subject, sequence, time, headers, payload) goes to stdout or a file;
progress and the summary go to stderr, so the output can be piped as it is. Messages come from
`replaying.ReplayFeed` (pull batches read by direct delivery); each line is built as text, a
valid one-line JSON payload embedded verbatim, and the lines are written once per event-loop turn.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time
from collections import deque
from typing import IO, Any, NamedTuple

from nats_pubsub.config import ReplaySettings
from nats_pubsub.config.client import connect_options
from nats_pubsub.connection.connect import ConnectLimit, connect
from nats_pubsub.connection.js_streams import JetStream, retry_busy
from nats_pubsub.connection.replay_feed import MessageSink, ReplayFeed
from nats_pubsub.domain.stream_rules import ReplayStart, parse_replay, since_ns, subjects_overlap
from nats_pubsub.domain.timeutil import format_ns
from nats_pubsub.errors import NatsError
from nats_pubsub.logs.logger import Logger
from nats_pubsub.services.replay_output import Progress, Writer

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


_Message = tuple[str, dict[str, str] | None, bytes, int, int, int]


class _Pacer:
    """--speed original: messages written with the gaps between their stored times."""

    def __init__(self, write: MessageSink, high_water: int) -> None:
        self._write = write
        self._high = high_water
        self._queue: deque[_Message | None] = deque()
        self._wake = asyncio.Event()
        self.feed: ReplayFeed | None = None

    def add(
        self,
        subject: str,
        headers: dict[str, str] | None,
        data: bytes,
        seq: int,
        ts_ns: int,
        pending: int,
    ) -> None:
        """Queue one message; ask the feed to pause while the queue is long."""
        self._queue.append((subject, headers, data, seq, ts_ns, pending))
        self._wake.set()
        if len(self._queue) >= self._high and self.feed is not None:
            self.feed.pause()

    def end(self) -> None:
        """No more messages: `run` returns once the queued ones are written."""
        self._queue.append(None)
        self._wake.set()

    async def run(self) -> None:
        """Write the queued messages at their original pace."""
        previous: int | None = None
        while True:
            while not self._queue:
                self._wake.clear()
                await self._wake.wait()
            message = self._queue.popleft()
            if message is None:
                return
            if self.feed is not None and len(self._queue) <= self._high // 2:
                self.feed.resume()
            if previous is not None:
                await asyncio.sleep(max(0.0, (message[4] - previous) / 1e9))
            previous = message[4]
            self._write(*message)


def _only_last(sink: MessageSink, last: int) -> MessageSink:
    """--last N with a filter: only the final N matching messages (by their pending count)."""

    def keep(
        subject: str,
        headers: dict[str, str] | None,
        data: bytes,
        seq: int,
        ts_ns: int,
        pending: int,
    ) -> None:
        if pending < last:
            sink(subject, headers, data, seq, ts_ns, pending)

    return keep


def _pacing_failed(task: asyncio.Future[None], feed: ReplayFeed) -> None:
    if not task.cancelled() and task.exception() is not None:
        feed.fail(NatsError(f"writing the output failed: {task.exception()}"))


async def _until(task: asyncio.Future[None], stop: asyncio.Event) -> None:
    stopped: asyncio.Future[Any] = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait([task, stopped], return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopped.cancel()


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
    js = JetStream(conn, log)
    out = _open_output(settings)
    started = time.monotonic()
    progress = Progress(sys.stderr)
    writer = Writer(out, progress)
    paced = settings.speed == "original"
    pacer = _Pacer(writer.add, high_water=2 * _PACED_BATCH) if paced else None
    sink: MessageSink = pacer.add if pacer is not None else writer.add
    if settings.filter_subject and settings.last:
        sink = _only_last(sink, settings.last)
    pacing: asyncio.Future[None] | None = None
    feed: ReplayFeed | None = None
    name = settings.stream_name
    try:
        if name is None:
            infos = await retry_busy(js.stream_infos, log, "streams")
            streams = {i["config"]["name"]: i["config"].get("subjects") or [] for i in infos}
            choice = choose_stream(settings.filter_subject, streams)
            if choice.name is None:
                log.error("Replay failed", stream=None, error=choice.problem)
                return choice.exit_code
            name = choice.name
        chosen = name
        state = await retry_busy(lambda: js.stream_state(chosen), log, f"stream {chosen}")
        start = replay_start(settings, state["first_seq"], state["last_seq"])
        feed = ReplayFeed(
            conn,
            js,
            name,
            settings.filter_subject,
            start,
            sink,
            follow=settings.follow,
            batch=_PACED_BATCH if pacer is not None else batch_size(state),
        )
        writer.on_error = feed.fail
        if pacer is not None:
            pacer.feed = feed
            pacing = asyncio.ensure_future(pacer.run())
            pacing.add_done_callback(lambda task: _pacing_failed(task, feed))
        await feed.open()
        await feed.wait(stop)
        if pacer is not None and pacing is not None:
            pacer.end()
            await _until(pacing, stop)
            if pacing.done() and not pacing.cancelled() and pacing.exception() is not None:
                raise NatsError(f"writing the output failed: {pacing.exception()}")
        writer.flush()
        if writer.error is not None:
            raise writer.error
        progress.end()
    except NatsError as exc:
        log.error("Replay failed", stream=name, error=str(exc))
        return 1
    finally:
        if pacing is not None:
            pacing.cancel()
        if feed is not None:
            await feed.close()
        writer.flush()
        with contextlib.suppress(OSError, ValueError):  # already reported as "Replay failed"
            out.flush()
            if settings.output:
                out.close()
        await conn.drain()
    seconds = time.monotonic() - started
    first, last = writer.first, (writer.last_seq, writer.last_ns) if writer.count else None
    log.info(
        "Replay finished",
        stream=name,
        subject=settings.filter_subject,
        count=writer.count,
        first_sequence=first[0] if first else None,
        last_sequence=last[0] if last else None,
        first_time=format_ns(first[1]) if first else None,
        last_time=format_ns(last[1]) if last else None,
        seconds=round(seconds, 3),
        messages_per_second=round(writer.count / seconds, 1) if seconds > 0 else 0.0,
        output=str(settings.output) if settings.output else "stdout",
    )
    return 0
