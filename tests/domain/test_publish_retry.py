"""When a JetStream publish is sent again, given up on, or counts as stalled."""

from __future__ import annotations

import pytest

from nats_pubsub.domain.publish_retry import (
    RESUMED,
    STALLED,
    StallWatch,
    gave_up,
    is_transient,
    retry_delay,
)


@pytest.mark.parametrize(
    ("code", "err_code", "transient"),
    [
        (503, 10008, True),  # JetStream temporarily unavailable (an election)
        (504, 0, True),
        (408, 0, True),
        (400, 10158, True),  # the same message id is being stored: its retry raced it
        (400, 10054, False),  # message size exceeds maximum allowed
        (400, 10060, False),  # expected stream does not match
        (503, 0, True),
        (400, 10077, False),  # maximum messages exceeded (discard new)
        (500, 10049, False),
    ],
)
def test_which_refusals_are_worth_another_try(code: int, err_code: int, transient: bool) -> None:
    assert is_transient(code, err_code) is transient


def test_retry_delay_doubles_from_a_tenth_up_to_two_seconds() -> None:
    assert [retry_delay(n) for n in range(1, 8)] == [0.1, 0.2, 0.4, 0.8, 1.6, 2.0, 2.0]
    assert retry_delay(0) == 0.1
    assert retry_delay(10_000) == 2.0


def test_give_up_only_after_the_limit_and_never_without_one() -> None:
    assert not gave_up(10.0, 1_000_000.0, None)
    assert not gave_up(10.0, 39.9, 30.0)
    assert gave_up(10.0, 40.0, 30.0)


def test_a_stall_is_said_once_and_its_end_once() -> None:
    watch = StallWatch(5.0)
    assert watch.observe(0.0, 0, waiting=True) is None  # waiting begins
    assert watch.observe(4.9, 0, waiting=True) is None
    assert watch.observe(5.0, 0, waiting=True) == (STALLED, 5.0)
    assert watch.observe(9.0, 0, waiting=True) is None  # said once
    assert watch.observe(12.5, 3, waiting=True) == (RESUMED, 12.5)
    assert watch.observe(13.0, 3, waiting=True) is None
    assert watch.observe(17.4, 3, waiting=True) is None  # 4.9 s since the ack was seen
    assert watch.observe(17.5, 3, waiting=True) == (STALLED, 5.0)


def test_no_stall_while_nothing_waits_or_acks_keep_coming() -> None:
    watch = StallWatch(5.0)
    for second in range(0, 60):
        assert watch.observe(float(second), 0, waiting=False) is None
    assert watch.observe(60.0, 0, waiting=True) is None  # waiting just began
    for second in range(61, 120):
        assert watch.observe(float(second), second, waiting=True) is None
