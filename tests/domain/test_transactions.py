"""Tests for nats_pubsub.domain.transactions: the transaction factory and the decline policy."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nats_pubsub.domain.schema import decode_payment, encode
from nats_pubsub.domain.timeutil import now_timestamp
from nats_pubsub.domain.transactions import (
    ACCEPTED_SUBJECT,
    AMOUNTS,
    CARD_TYPES,
    DECLINE_CODES,
    DECLINE_REASONS,
    DECLINED_SUBJECT,
    FAST_DECLINE_RATE,
    FAST_INTERVAL_SECONDS,
    AcceptedTransaction,
    DeclinedTransaction,
    DeclinePolicy,
    PaymentStats,
    TransactionFactory,
    should_decline,
    transaction_log_fields,
)

STAMP = "2024-05-06T07:08:09.123456Z"
ACCEPTED_ORDER = [
    "transaction_id",
    "timestamp",
    "source",
    "card_type",
    "last_four",
    "amount",
    "currency",
    "status",
    "merchant_id",
    "authorization_code",
]
DECLINED_ORDER = [
    "transaction_id",
    "timestamp",
    "source",
    "card_type",
    "last_four",
    "amount",
    "currency",
    "status",
    "decline_reason",
    "merchant_id",
    "decline_code",
]


def declines_at(
    interval: float, seconds: float, seed: int, rate: float | None = None
) -> list[float]:
    """Simulated times of the declines a policy makes with one message every `interval`."""
    policy = DeclinePolicy(interval, rate, seed)
    steps = int(seconds / interval)
    return [n * interval for n in range(steps) if policy.decide(n * interval)]


def test_ids_count_up_across_both_outcomes() -> None:
    """Transaction ids are TXN-{source}-{n}, n from 1 whatever the outcome."""
    factory = TransactionFactory("pay-1", seed=1)
    ids = [factory.next(STAMP, declined=n % 3 == 0).transaction_id for n in range(1, 7)]
    assert ids == [f"TXN-pay-1-{n}" for n in range(1, 7)]


def test_accepted_fields_in_wire_order() -> None:
    """An accepted transaction encodes its fields in the documented order."""
    txn = TransactionFactory("pay", seed=2).next(STAMP, declined=False)
    assert list(json.loads(encode(txn))) == ACCEPTED_ORDER


def test_declined_fields_in_wire_order() -> None:
    """A declined transaction encodes its fields in the documented order."""
    txn = TransactionFactory("pay", seed=2).next(STAMP, declined=True)
    assert list(json.loads(encode(txn))) == DECLINED_ORDER


@given(seed=st.integers(min_value=0, max_value=2**32), declined=st.booleans())
def test_every_transaction_decodes_with_the_schema(seed: int, declined: bool) -> None:
    """Whatever the seed and outcome, the wire bytes pass schema.decode_payment."""
    txn = TransactionFactory("pay", seed=seed).next(now_timestamp(), declined)
    decoded = decode_payment(encode(txn)).message
    assert decoded.transaction_id == txn.transaction_id
    assert decoded.status == ("declined" if declined else "accepted")


def test_accepted_values_are_in_their_domains() -> None:
    """Card type, last four, amount, currency, merchant and auth code have the documented form."""
    factory = TransactionFactory("pay", seed=3)
    for _ in range(300):
        txn = factory.next(STAMP, declined=False)
        assert isinstance(txn, AcceptedTransaction)
        assert txn.card_type in CARD_TYPES
        assert re.fullmatch(r"\d{4}", txn.last_four)
        assert txn.amount in AMOUNTS
        assert txn.currency == "USD"
        assert re.fullmatch(r"MERCH-\d{4}", txn.merchant_id)
        assert re.fullmatch(r"AUTH-[0-9A-F]{8}", txn.authorization_code)


def test_declined_values_are_in_their_domains() -> None:
    """A decline carries a known reason, that reason's ERR-nnn code and a merchant id."""
    factory = TransactionFactory("pay", seed=4)
    reasons = set()
    for _ in range(300):
        txn = factory.next(STAMP, declined=True)
        assert isinstance(txn, DeclinedTransaction)
        assert txn.status == "declined"
        assert txn.decline_code == DECLINE_CODES[txn.decline_reason]
        assert re.fullmatch(r"ERR-\d{3}", txn.decline_code)
        assert re.fullmatch(r"MERCH-\d{4}", txn.merchant_id)
        reasons.add(txn.decline_reason)
    assert reasons == set(DECLINE_REASONS)


def test_same_seed_same_transactions() -> None:
    """Two factories with one seed build identical transactions."""
    one, two = TransactionFactory("pay", seed=9), TransactionFactory("pay", seed=9)
    outcomes = [n % 4 == 0 for n in range(50)]
    assert [one.next(STAMP, d) for d in outcomes] == [two.next(STAMP, d) for d in outcomes]


def test_different_seeds_differ() -> None:
    """Different seeds give different transactions."""
    one, two = TransactionFactory("pay", seed=1), TransactionFactory("pay", seed=2)
    assert [one.next(STAMP, False) for _ in range(10)] != [
        two.next(STAMP, False) for _ in range(10)
    ]


@pytest.mark.parametrize(("draw", "expected"), [(0.0, True), (0.29, True), (0.3, False)])
def test_fixed_rate_declines_below_the_rate(draw: float, expected: bool) -> None:
    """With --decline-rate, a draw below the rate declines, whatever the clock says."""
    assert should_decline(600.0, 5.0, draw, rate=0.3) is expected


def test_fixed_rate_zero_never_forces() -> None:
    """A rate of 0 never declines, even after a long quiet spell."""
    assert should_decline(3600.0, 5.0, 0.0, rate=0.0) is False


def test_default_forces_before_a_window_would_pass() -> None:
    """By default a decline is forced when the next message would close a quiet 60 s window."""
    assert should_decline(55.0, 5.0, 0.99) is True
    assert should_decline(54.0, 5.0, 0.99) is False


def test_default_probability_is_interval_over_window() -> None:
    """Between forced declines, the chance per message is interval/60."""
    assert should_decline(0.0, 6.0, 0.09) is True
    assert should_decline(0.0, 6.0, 0.11) is False


def test_default_caps_long_intervals_without_forcing() -> None:
    """At intervals over 30 s declines are random with probability 0.5, never forced."""
    assert should_decline(600.0, 120.0, 0.6) is False
    assert should_decline(600.0, 120.0, 0.4) is True


@pytest.mark.parametrize("seed", range(10))
def test_simulated_hour_at_5s_has_a_decline_in_every_minute(seed: int) -> None:
    """Over a simulated hour at 5 s, every 60 s window holds at least one decline."""
    times = declines_at(5.0, 3600, seed)
    for start in range(0, 3600 - 60 + 1, 5):
        assert any(start <= t < start + 60 for t in times), (seed, start)


def test_simulated_hour_is_about_one_decline_a_minute() -> None:
    """At human intervals the default policy declines roughly once a minute, not a fixed share."""
    for interval in (1.0, 5.0, 20.0):
        count = len(declines_at(interval, 3600, seed=11))
        assert 60 <= count <= 150, (interval, count)


@pytest.mark.parametrize("interval", [0.0, 0.001, 0.5, 0.999])
def test_fast_intervals_use_the_fixed_default_rate(interval: float) -> None:
    """Under 1 s the default is a fixed 13%: a draw below it declines, nothing is forced."""
    assert should_decline(0.0, interval, FAST_DECLINE_RATE - 0.001) is True
    assert should_decline(0.0, interval, FAST_DECLINE_RATE) is False
    assert should_decline(3600.0, interval, 0.99) is False


def test_one_second_keeps_the_minute_policy() -> None:
    """At exactly 1 s the once-a-minute policy applies (forced after a quiet minute)."""
    assert FAST_INTERVAL_SECONDS == 1.0
    assert should_decline(59.0, 1.0, 0.99) is True
    assert should_decline(0.0, 1.0, 1 / 60 - 0.001) is True
    assert should_decline(0.0, 1.0, 0.02) is False


def test_fixed_rate_overrides_the_fast_default() -> None:
    """--decline-rate replaces the fast default too."""
    assert should_decline(0.0, 0.0, 0.5, rate=0.6) is True
    assert should_decline(0.0, 0.0, 0.05, rate=0.0) is False


@pytest.mark.parametrize("seed", range(5))
def test_a_flat_out_run_of_200_declines_about_13_percent(seed: int) -> None:
    """200 transactions flat out (a run of well under a minute) decline 5% to 25% of them."""
    policy = DeclinePolicy(0.0, seed=seed)
    declined = sum(policy.decide(n / 1000) for n in range(200))
    assert 10 <= declined <= 50, (seed, declined)


def test_flat_out_share_converges_to_the_fast_rate() -> None:
    """Over many transactions flat out the share of declines is 13% (to within 1 point)."""
    policy = DeclinePolicy(0.0, seed=3)
    declined = sum(policy.decide(n / 1000) for n in range(100_000))
    assert abs(declined / 100_000 - FAST_DECLINE_RATE) < 0.01


def test_fast_seeded_runs_repeat_whatever_the_clock() -> None:
    """With --seed a fast run makes the same decisions, even on a different real clock."""
    one, two = DeclinePolicy(0.0, seed=4), DeclinePolicy(0.0, seed=4)
    assert [one.decide(n / 1000) for n in range(500)] == [two.decide(n / 7) for n in range(500)]


def test_policy_with_the_same_seed_repeats() -> None:
    """Two policies with one seed make the same decisions on the same clock."""
    assert declines_at(5.0, 3600, seed=8) == declines_at(5.0, 3600, seed=8)


def test_log_fields_of_an_accepted_transaction() -> None:
    """`Credit card accepted` carries the authorization code and no decline fields."""
    txn = TransactionFactory("pay", seed=1).next(STAMP, declined=False)
    fields = transaction_log_fields(txn, ACCEPTED_SUBJECT, 250)
    assert list(fields) == [
        "transaction_id",
        "subject",
        "card_type",
        "last_four",
        "amount",
        "authorization_code",
        "size_bytes",
    ]
    assert fields["size_bytes"] == 250


def test_log_fields_of_a_declined_transaction() -> None:
    """`Credit card declined` carries the decline reason and code."""
    txn = TransactionFactory("pay", seed=1).next(STAMP, declined=True)
    assert isinstance(txn, DeclinedTransaction)
    fields = transaction_log_fields(txn, DECLINED_SUBJECT, 260)
    assert fields["decline_reason"] == txn.decline_reason
    assert fields["decline_code"] == txn.decline_code
    assert "authorization_code" not in fields


def test_stats_snapshot_counts_outcomes() -> None:
    """The metrics record adds up accepted and declined and reports the decline rate."""
    stats = PaymentStats(started=100.0)
    factory = TransactionFactory("pay", seed=1)
    for declined in (False, False, False, True):
        stats.count(factory.next(STAMP, declined))
    stats.errors = 2
    assert stats.snapshot(now=102.0) == {
        "total": 4,
        "accepted": 3,
        "declined": 1,
        "decline_rate": 0.25,
        "publish_errors": 2,
        "transactions_per_second": 2.0,
        "uptime_seconds": 2.0,
    }


def test_json_schema_document_matches_the_code() -> None:
    """docs/schemas/payment-transaction.schema.json lists the fields and values the code uses."""
    path = Path(__file__).parents[2] / "docs" / "schemas" / "payment-transaction.schema.json"
    schema = json.loads(path.read_text())
    accepted, declined = schema["oneOf"]
    props = schema["properties"]
    assert [*schema["required"], *accepted["required"]] == ACCEPTED_ORDER
    assert set(schema["required"]) | set(declined["required"]) == set(DECLINED_ORDER)
    assert props["card_type"]["enum"] == list(CARD_TYPES)
    assert props["amount"]["enum"] == list(AMOUNTS)
    assert declined["properties"]["decline_reason"]["enum"] == list(DECLINE_REASONS)
