"""The first connect's retry decisions (pure): how long to wait, and when a limit ends it."""

from __future__ import annotations

import pytest

from nats_pubsub.connection.connect import retry_wait


@pytest.mark.parametrize(
    ("attempt", "wait", "expected"),
    [(1, 2.0, 2.0), (2, 2.0, 4.0), (5, 2.0, 10.0), (9, 2.0, 10.0), (3, 0.5, 1.5)],
)
def test_waits_grow_to_ten_seconds_without_a_limit(
    attempt: int, wait: float, expected: float
) -> None:
    """RECONNECT_WAIT more after each failed attempt, at most 10 s, forever."""
    assert retry_wait(attempt, wait, None) == expected


def test_a_limit_keeps_room_for_a_last_attempt() -> None:
    """With a limit, the wait ends a quarter second before it, so one more attempt fits."""
    assert retry_wait(1, 2.0, 10.0) == 2.0
    assert retry_wait(2, 2.0, 3.0) == 2.75


@pytest.mark.parametrize("remaining", [0.25, 0.1, 0.0, -1.0])
def test_no_attempt_fits_at_the_end_of_a_limit(remaining: float) -> None:
    """None (give up) once no attempt fits in what is left of the limit."""
    assert retry_wait(1, 2.0, remaining) is None
