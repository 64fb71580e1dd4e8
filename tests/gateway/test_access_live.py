"""Pure pieces around requests: tokens, CORS, failures, live queues, SSE formats."""

from __future__ import annotations

import asyncio

import pytest

from nats_pubsub.errors import (
    ConsumerNotFound,
    JetStreamError,
    NatsConnectError,
    NatsNoRespondersError,
    NatsTimeoutError,
    StreamNotFound,
    StreamSubjectsOverlap,
)
from nats_pubsub.gateway.access import authorized, cors_headers, preflight_headers, token_in
from nats_pubsub.gateway.failures import INTERNAL, failure
from nats_pubsub.gateway.live import ClientQueue, Lag, LiveFeed, LiveItem
from nats_pubsub.gateway.live_formats import sse_message
from nats_pubsub.gateway.stats import HttpStats
from nats_pubsub.gateway.validation import Invalid


def test_tokens() -> None:
    """The header first, then ?access_token; compared exactly."""
    assert token_in(b"Bearer abc", b"") == b"abc"
    assert token_in(b"bearer abc ", b"") == b"abc"
    assert token_in(None, b"limit=1&access_token=xyz") == b"xyz"
    assert token_in(b"Basic abc", b"") is None
    assert authorized(None, None)
    assert authorized(b"abc", b"abc")
    assert not authorized(b"abc", b"abd")
    assert not authorized(b"abc", None)


def test_cors() -> None:
    """Nothing when off or for other origins; `*` allows any; preflights name the methods."""
    assert cors_headers(b"http://a", ()) == []
    assert cors_headers(b"http://b", ("http://a",)) == []
    assert cors_headers(b"http://a", ("http://a",)) == [
        (b"access-control-allow-origin", b"http://a"),
        (b"vary", b"Origin"),
    ]
    assert cors_headers(b"http://z", ("*",)) == [(b"access-control-allow-origin", b"*")]
    assert preflight_headers(b"http://b", ("http://a",)) is None
    headers = dict(preflight_headers(b"http://a", ("http://a",)) or [])
    assert b"DELETE" in headers[b"access-control-allow-methods"]


@pytest.mark.parametrize(
    ("exc", "status"),
    [
        (Invalid("bad"), 400),
        (StreamNotFound("x"), 404),
        (ConsumerNotFound("x"), 404),
        (StreamSubjectsOverlap("x"), 409),
        (NatsConnectError("down"), 503),
        (NatsNoRespondersError("nobody"), 503),
        (NatsTimeoutError("slow"), 504),
        (JetStreamError("bad config", status=400), 400),
        (JetStreamError("exists", err_code=10148, status=400), 409),
        (JetStreamError("odd"), 502),
    ],
)
def test_failures(exc: Exception, status: int) -> None:
    """Each failure's status; none is unexpected."""
    outcome = failure(exc, "S", "C")
    assert outcome.status == status
    assert not outcome.unexpected


def test_an_unforeseen_failure_is_500_without_details() -> None:
    """The text is fixed: nothing of the exception reaches the client."""
    outcome = failure(KeyError("secret detail"))
    assert (outcome.status, outcome.text, outcome.unexpected) == (500, INTERNAL, True)
    assert failure(StreamNotFound("x"), "EVENTS").text == "Stream 'EVENTS' not found"
    assert failure(ConsumerNotFound("x"), "S", "c").text == "Consumer 'c' not found on stream 'S'"


def _item(seq: int) -> LiveItem:
    return LiveItem("s", b"{}", seq, 0, "S")


def test_a_full_queue_counts_what_it_misses_and_says_so_after_what_it_held() -> None:
    """Capacity 3: messages 4 and 5 are missed; the sender gets 1, 2, 3, then Lag(2); 6 comes
    after (the queue has room again once taken)."""
    queue = ClientQueue(3)
    accepted = [queue.put(_item(n)) for n in range(1, 6)]
    assert accepted == [True, True, True, False, False]
    taken = asyncio.run(queue.take())
    assert [getattr(e, "seq", e) for e in taken] == [1, 2, 3, Lag(2)]
    assert queue.put(_item(6))
    assert [getattr(e, "seq", e) for e in asyncio.run(queue.take())] == [6]
    assert queue.missed_total == 2


def test_each_format_is_encoded_once_per_message() -> None:
    """Clients of one format share the encoding."""
    item = _item(7)
    calls = []

    def make(it: LiveItem) -> bytes:
        calls.append(it.seq)
        return sse_message(it)

    first, second = item.encoded("sse", make), item.encoded("sse", make)
    assert first is second
    assert calls == [7]
    assert first.startswith(b"id: 7\nevent: message\ndata: {")


def test_a_feed_counts_what_a_full_queue_refuses_when_it_refuses_it() -> None:
    """The missed counter moves as messages are dropped, not when the client's sender (blocked
    on a stalled socket, maybe forever) reaches the lag marker."""
    stats = HttpStats()
    feed = LiveFeed("S", "s.>", stats)
    stalled, healthy = ClientQueue(2), ClientQueue(10)
    feed.clients.update((stalled, healthy))
    for seq in range(1, 6):
        feed.hand_over("s.x", None, b"{}", seq, 0, 0)
    assert stats.live_missed == 3
    assert stalled.missed == 3
    assert healthy.missed == 0
