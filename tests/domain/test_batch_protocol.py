"""Tests for domain.batch_protocol: fast-ingest formats, replies and the watcher's steps."""

from __future__ import annotations

import pytest
from nats.protocol import command

from nats_pubsub.domain.batch_protocol import (
    END,
    FORGET,
    GIVE_UP,
    HPUB_BATCH_FORMAT,
    IDLE_SECONDS,
    PING,
    WAIT,
    Job,
    OpenBatch,
    batch_reply_head,
    batch_room,
    decode_reply,
    watch_step,
)
from nats_pubsub.domain.wire import HEADER_OVERHEAD

TIMEOUT = 3.0


def _step(now: float, awaited: bool, closing: bool = False, **more: float) -> tuple[str, float]:
    values = {"unacked": 1, "last_put": 0.0, "heard": 0.0, "pinged": 0.0, **more}
    return watch_step(
        now,
        awaited=awaited,
        unacked=int(values["unacked"]),
        last_put=values["last_put"],
        heard=values["heard"],
        pinged=values["pinged"],
        timeout=TIMEOUT,
        closing=closing,
    )


def test_room_is_twice_the_flow_past_the_last_ack() -> None:
    """A batch may have 2 * flow messages unacknowledged; none once that many are out."""
    assert batch_room(0, 16, 0) == 32
    assert batch_room(0, 16, 32) == 0
    assert batch_room(16, 16, 40) == 8


def test_reply_subject_names_inbox_batch_flow_and_mode() -> None:
    """The reply head plus number, op and $FI is the subject the server parses."""
    head = batch_reply_head("_INBOX.abc", "abc1", 16)
    assert head + b"3.1.$FI" == b"_INBOX.abc.abc1.16.fail.3.1.$FI"


def test_frame_matches_the_clients_encoding() -> None:
    """A batch message's HPUB frame is what nats-py would send with that reply and header."""
    size = HEADER_OVERHEAD + len(b"m-1")
    head = b"_INBOX.a.a1.8.fail."
    frame = HPUB_BATCH_FORMAT % (b"HPUB s ", head, 2, 1, size, size + 2, b"m-1", b"hi")
    header = bytearray(b"NATS/1.0\r\nNats-Msg-Id: m-1\r\n\r\n")
    assert frame == command.hpub_cmd("s", "_INBOX.a.a1.8.fail.2.1.$FI", header, b"hi")


@pytest.mark.parametrize(
    ("data", "kind", "seq", "count", "code"),
    [
        (b'{"type":"ack","seq":100,"msgs":100}', "ack", 100, -1, None),
        (b'{"type":"gap","last_seq":5,"seq":7}', "gap", 7, -1, None),
        (b'{"stream":"S","seq":41,"batch":"b1","count":20}', "", 41, 20, None),
        (b'{"error":{"code":400,"err_code":10208,"description":"x"},"seq":0}', "", 0, -1, 10208),
    ],
)
def test_replies_decode(data: bytes, kind: str, seq: int, count: int, code: int | None) -> None:
    """Flow events, the final reply and errors decode into one reply type."""
    reply = decode_reply(data)
    assert (reply.type, reply.seq, reply.count) == (kind, seq, count)
    assert (reply.error.err_code if reply.error else None) == code


def test_paused_publisher_ends_the_batch() -> None:
    """Nothing put for the idle time and nothing awaited: end the batch (or forget it if acked)."""
    assert _step(IDLE_SECONDS, False) == (END, 0.0)
    assert _step(IDLE_SECONDS, False, unacked=0) == (FORGET, 0.0)


def test_busy_publisher_waits_out_the_idle_time() -> None:
    """Right after a put, the watcher waits until the idle time has passed."""
    step, wait = _step(0.01, False, last_put=0.01)
    assert step == WAIT
    assert wait == pytest.approx(IDLE_SECONDS)


def test_closing_publisher_ends_the_batch_without_the_pause() -> None:
    """Once the publisher puts no more, the batch ends (or is forgotten) right after a put."""
    assert _step(0.01, False, closing=True, last_put=0.01) == (END, 0.0)
    assert _step(0.01, False, closing=True, last_put=0.01, unacked=0) == (FORGET, 0.0)
    assert _step(0.5, True, closing=True)[0] == WAIT  # a reply still awaited is waited for


def test_awaited_reply_is_pinged_for_then_given_up() -> None:
    """Unheard for a third of the timeout: ping; for the whole timeout: give the batch up."""
    assert _step(0.5, True)[0] == WAIT
    assert _step(TIMEOUT / 3, True) == (PING, 0.0)
    assert _step(TIMEOUT / 3 + 0.1, True, pinged=TIMEOUT / 3)[0] == WAIT
    assert _step(2 * TIMEOUT / 3, True, pinged=TIMEOUT / 3) == (PING, 0.0)
    assert _step(TIMEOUT, True, pinged=2 * TIMEOUT / 3) == (GIVE_UP, 0.0)


def test_awaited_wait_never_spins_on_an_old_put() -> None:
    """While a reply is awaited, a long-past put does not make the watcher wake at once."""
    step, wait = _step(1.2, True, last_put=0.0, heard=1.0, pinged=0.0)
    assert step == WAIT
    assert wait == pytest.approx(0.8)  # until the ping due at heard + timeout / 3


def _job(n: int) -> Job:
    return ("s", b"x", b"m-%d" % n, n, 1)


def _batch_of(count: int, flow: int = 4) -> OpenBatch:
    batch = OpenBatch("_INBOX.a", "a1", flow)
    for n in range(1, count + 1):
        batch.frame(b"HPUB s ", _job(n))
    return batch


def test_open_batch_numbers_its_messages() -> None:
    """Messages are numbered from 1; the first starts the batch (op 0), the rest add (op 1)."""
    batch = OpenBatch("_INBOX.a", "a1", 4)
    first = batch.frame(b"HPUB s ", _job(1))
    second = batch.frame(b"HPUB t ", _job(2))
    assert first.startswith(b"HPUB s _INBOX.a.a1.4.fail.1.0.$FI ")
    assert second.startswith(b"HPUB t _INBOX.a.a1.4.fail.2.1.$FI ")
    assert (batch.sent, batch.subject) == (2, "s")
    assert batch.control(3, 3) == b"PUB s _INBOX.a.a1.4.fail.3.3.$FI 0\r\n\r\n"


def test_open_batch_room_waits_for_the_stream() -> None:
    """No room until the stream took the batch; then 2 * flow past the highest ack."""
    batch = _batch_of(1)
    assert batch.room() == 0
    batch.confirmed = True
    assert batch.room() == 7
    batch.set_flow(2)
    assert batch.room() == 3
    assert batch.head == b"_INBOX.a.a1.2.fail."


def test_open_batch_acks_in_order_and_skips_refused() -> None:
    """An ack through n hands over each context once; a refused one is left out."""
    batch = _batch_of(6)
    assert batch.refuse(2) == _job(2)
    assert batch.refuse(2) is None  # refused once only
    assert batch.refuse(9) is None  # not in the batch
    assert batch.take_acked(3) == [1, 3]
    assert batch.take_acked(3) == []
    assert batch.take_acked(0) == []
    assert batch.take_unacked() == [_job(4), _job(5), _job(6)]
    assert not batch.jobs


def test_open_batch_takes_jobs_framed_elsewhere() -> None:
    """`extend` numbers jobs after those framed already; the first names the batch's subject."""
    batch = OpenBatch("_INBOX.a", "a1", 4)
    batch.extend([("t", b"x", b"m-1", 1, 1), _job(2)])
    batch.frame(b"HPUB s ", _job(3))
    batch.extend([_job(4)])
    assert (batch.sent, batch.subject) == (4, "t")
    assert batch.take_acked(3) == [1, 2, 3]
    assert batch.take_unacked() == [_job(4)]
