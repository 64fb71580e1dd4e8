"""The fast-ingest batch protocol (ADR-50, nats-server 2.14+): wire formats, replies, and the
decisions of ingest.py's `BatchWindow`, as pure functions.

Each message carries the reply subject `<inbox>.<batch>.<flow>.fail.<n>.<op>.$FI`: message number
n of batch `<batch>`; op 0 starts the batch, 1 adds to it, 3 ends it (an empty, unstored message),
4 asks for the latest ack again. The stream stores each message as it arrives and replies on that
subject every `flow` messages with `{"type":"ack","seq":n,"msgs":flow}`: messages 1..n are stored,
in order ("fail": a gap ends the batch). It reports a gap (`{"type":"gap"}`), a refused message
(`{"type":"err"}`, or an error reply on that message's subject) and ends the batch with a final
reply (`{"stream":..,"count":c}`: messages 1..c are stored), or an error for the batch as a whole.
"""

from __future__ import annotations

import msgspec

__all__ = [
    "END",
    "FORGET",
    "GIVE_UP",
    "HPUB_BATCH_FORMAT",
    "IDLE_SECONDS",
    "OP_ADD",
    "OP_END",
    "OP_PING",
    "OP_START",
    "PING",
    "REFUSED_BATCH",
    "RETRY_BATCH",
    "WAIT",
    "BatchReply",
    "batch_reply_head",
    "batch_room",
    "decode_reply",
    "watch_step",
]

IDLE_SECONDS = 0.05  # a batch with nothing put for this long is ended, so its last acks come
OP_START, OP_ADD, OP_END, OP_PING = 0, 1, 3, 4
# The server forgot the batch (ended, idle over 10 s) or has too many open: a new batch may work.
RETRY_BATCH = frozenset({10208, 10211})
# The stream refuses the batch itself: disabled, bad reply subject, bad batch id.
REFUSED_BATCH = frozenset({10205, 10206, 10207})
# HPUB to a batch: command start (b"HPUB subject "), reply head, message number, op, header size,
# total size, Nats-Msg-Id, payload.
HPUB_BATCH_FORMAT = b"%b%b%d.%d.$FI %d %d\r\nNATS/1.0\r\nNats-Msg-Id: %b\r\n\r\n%b\r\n"


class BatchError(msgspec.Struct):
    """The error of a reply."""

    err_code: int = 0
    description: str = ""


class BatchReply(msgspec.Struct):
    """Any reply on a batch's subjects: a flow event (`type` set) or the batch's final reply."""

    type: str = ""
    seq: int = 0
    msgs: int = 0
    last_seq: int = 0
    stream: str = ""
    count: int = -1
    error: BatchError | None = None


decode_reply = msgspec.json.Decoder(BatchReply).decode


def batch_reply_head(inbox: str, batch: str, flow: int) -> bytes:
    """The reply subject of a batch's messages up to the message number."""
    return f"{inbox}.{batch}.{flow}.fail.".encode()


def batch_room(acked: int, flow: int, sent: int) -> int:
    """How many more messages a batch may send: 2 * `flow` past the highest acked one."""
    return acked + 2 * flow - sent


END, FORGET, GIVE_UP, PING, WAIT = "end", "forget", "give up", "ping", "wait"


def watch_step(
    now: float,
    *,
    awaited: bool,
    unacked: int,
    last_put: float,
    heard: float,
    pinged: float,
    timeout: float,
) -> tuple[str, float]:
    """What an open batch's watcher does next, and how long it waits first (WAIT).

    `awaited`: something is expected from the stream (a publisher waits for room, the batch is
    unconfirmed or ending). Otherwise a batch whose publisher paused for `IDLE_SECONDS` is ended
    (END), or just forgotten when nothing in it awaits an ack (FORGET). Something expected and not
    heard for a third of `timeout` asks again (PING), at most once a third; for all of it, the
    batch is given up (GIVE_UP).
    """
    if not awaited:
        wait = last_put + IDLE_SECONDS - now
        if wait <= 0:
            return (END if unacked else FORGET), 0.0
        return WAIT, wait
    if now - heard >= timeout:
        return GIVE_UP, 0.0
    next_ping = max(heard, pinged) + timeout / 3
    if now >= next_ping:
        return PING, 0.0
    return WAIT, max(0.001, min(next_ping, heard + timeout) - now)
