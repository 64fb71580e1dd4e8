"""Credit card transactions for `nats-pubsub payments`: the seeded factory and the decline policy.

Everything here is pure and seeded: the same seed (and the same simulated clock) gives the same
transactions and the same accept/decline decisions, so runs are reproducible and testable.
"""

from __future__ import annotations

import random
import time
from typing import Any, Final

import msgspec

__all__ = [
    "ACCEPTED_SUBJECT",
    "AMOUNTS",
    "CARD_TYPES",
    "DECLINED_SUBJECT",
    "DECLINE_CODES",
    "DECLINE_REASONS",
    "DECLINE_WINDOW_SECONDS",
    "FAST_DECLINE_RATE",
    "FAST_INTERVAL_SECONDS",
    "MAX_DEFAULT_DECLINE_RATE",
    "AcceptedTransaction",
    "DeclinePolicy",
    "DeclinedTransaction",
    "PaymentStats",
    "Transaction",
    "TransactionFactory",
    "should_decline",
    "transaction_log_fields",
]

ACCEPTED_SUBJECT: Final = "payments.credit_card.accepted"
DECLINED_SUBJECT: Final = "payments.credit_card.declined"
CARD_TYPES: Final = ("Visa", "Mastercard", "Amex", "Discover")
AMOUNTS: Final = (29.99, 49.99, 99.99, 149.99, 249.99, 499.99)
CURRENCY: Final = "USD"
# Each reason has its own code, loosely after the ISO 8583 response codes issuers use.
DECLINE_CODES: Final = {
    "insufficient_funds": "ERR-051",
    "card_expired": "ERR-054",
    "invalid_cvv": "ERR-082",
    "suspected_fraud": "ERR-059",
    "card_limit_exceeded": "ERR-061",
    "issuer_declined": "ERR-005",
}
DECLINE_REASONS: Final = tuple(DECLINE_CODES)
DECLINE_WINDOW_SECONDS: Final = 60.0
# Above this the default policy stops forcing declines: one a minute would be most transactions.
MAX_DEFAULT_DECLINE_RATE: Final = 0.5
# Below this interval (load tests, `--interval 0`) a run may last less than the window, so the
# default is a fixed probability instead, close to the upstream simulator's observed share.
FAST_INTERVAL_SECONDS: Final = 1.0
FAST_DECLINE_RATE: Final = 0.13


class AcceptedTransaction(msgspec.Struct, kw_only=True):
    """An accepted transaction, its fields in wire order."""

    transaction_id: str
    timestamp: str
    source: str
    card_type: str
    last_four: str
    amount: float
    currency: str
    status: str
    merchant_id: str
    authorization_code: str


class DeclinedTransaction(msgspec.Struct, kw_only=True):
    """A declined transaction, its fields in wire order."""

    transaction_id: str
    timestamp: str
    source: str
    card_type: str
    last_four: str
    amount: float
    currency: str
    status: str
    decline_reason: str
    merchant_id: str
    decline_code: str


Transaction = AcceptedTransaction | DeclinedTransaction


class TransactionFactory:
    """Builds transactions numbered `TXN-{source}-{n}` (n from 1 across both outcomes)."""

    __slots__ = ("_rng", "number", "source")

    def __init__(self, source: str, seed: int | None = None) -> None:
        self.source = source
        self.number = 0
        self._rng = random.Random(seed)

    def next(self, timestamp: str, declined: bool) -> Transaction:
        """Return the next transaction, accepted or declined as told."""
        self.number += 1
        rng = self._rng
        common: dict[str, Any] = {
            "transaction_id": f"TXN-{self.source}-{self.number}",
            "timestamp": timestamp,
            "source": self.source,
            "card_type": rng.choice(CARD_TYPES),
            "last_four": f"{rng.randrange(10_000):04d}",
            "amount": rng.choice(AMOUNTS),
            "currency": CURRENCY,
        }
        merchant_id = f"MERCH-{rng.randrange(1000, 10_000)}"
        if declined:
            reason = rng.choice(DECLINE_REASONS)
            return DeclinedTransaction(
                **common,
                status="declined",
                decline_reason=reason,
                merchant_id=merchant_id,
                decline_code=DECLINE_CODES[reason],
            )
        return AcceptedTransaction(
            **common,
            status="accepted",
            merchant_id=merchant_id,
            authorization_code=f"AUTH-{rng.getrandbits(32):08X}",
        )


def should_decline(
    since_last_decline: float,
    interval: float,
    draw: float,
    rate: float | None = None,
    window: float = DECLINE_WINDOW_SECONDS,
) -> bool:
    """Decide one transaction from the seconds since the last decline and a uniform `draw`.

    With a fixed `rate`, decline when `draw < rate`. By default, at intervals under
    FAST_INTERVAL_SECONDS decline with FAST_DECLINE_RATE, so even a short flat-out run declines
    some. At human intervals, decline when waiting for the next transaction (`interval` seconds
    away) would leave `window` seconds without a decline, and otherwise with probability
    interval/window, so declines come about once a window at any interval. For intervals over
    half the window only the capped probability applies.
    """
    if rate is not None:
        return draw < rate
    if interval < FAST_INTERVAL_SECONDS:
        return draw < FAST_DECLINE_RATE
    probability = min(interval / window, MAX_DEFAULT_DECLINE_RATE)
    if interval <= window * MAX_DEFAULT_DECLINE_RATE and since_last_decline + interval >= window:
        return True
    return draw < probability


class DeclinePolicy:
    """Seeded accept/decline decisions on a clock the caller supplies (simulated or real)."""

    __slots__ = ("_last", "_rng", "interval", "rate")

    def __init__(
        self, interval: float, rate: float | None = None, seed: int | None = None, start: float = 0
    ) -> None:
        self.interval = interval
        self.rate = rate
        # Its own stream, so the transactions' contents do not depend on how many draws it took.
        self._rng = random.Random(None if seed is None else f"decline-{seed}")
        self._last = start

    def decide(self, now: float) -> bool:
        """True when the transaction at clock time `now` (seconds) is to be declined."""
        declined = should_decline(now - self._last, self.interval, self._rng.random(), self.rate)
        if declined:
            self._last = now
        return declined


def transaction_log_fields(txn: Transaction, subject: str, size_bytes: int) -> dict[str, Any]:
    """The fields of a `Credit card accepted` / `Credit card declined` record."""
    fields: dict[str, Any] = {
        "transaction_id": txn.transaction_id,
        "subject": subject,
        "card_type": txn.card_type,
        "last_four": txn.last_four,
        "amount": txn.amount,
    }
    if isinstance(txn, DeclinedTransaction):
        fields["decline_reason"] = txn.decline_reason
        fields["decline_code"] = txn.decline_code
    else:
        fields["authorization_code"] = txn.authorization_code
    fields["size_bytes"] = size_bytes
    return fields


class PaymentStats:
    """What the payment publisher has done since it started."""

    __slots__ = (
        "accepted",
        "declined",
        "declined_by_reason",
        "errors",
        "published_bytes",
        "started",
    )

    def __init__(self, started: float | None = None) -> None:
        self.started = time.monotonic() if started is None else started
        self.accepted = 0
        self.declined = 0
        self.errors = 0
        self.published_bytes = 0
        self.declined_by_reason = dict.fromkeys(DECLINE_REASONS, 0)

    def count(self, txn: Transaction) -> None:
        """Count one transaction that was published."""
        if isinstance(txn, DeclinedTransaction):
            self.declined += 1
            reasons = self.declined_by_reason
            reasons[txn.decline_reason] = reasons.get(txn.decline_reason, 0) + 1
        else:
            self.accepted += 1

    def snapshot(
        self, now: float | None = None, retries: int | None = None
    ) -> dict[str, float | int]:
        """The fields of a `Payment publisher metrics` record (`js_retries` with JetStream:
        publishes sent again until acked)."""
        uptime = (time.monotonic() if now is None else now) - self.started
        total = self.accepted + self.declined
        more = {} if retries is None else {"js_retries": retries}
        return {
            "total": total,
            "accepted": self.accepted,
            "declined": self.declined,
            "decline_rate": round(self.declined / total, 4) if total else 0.0,
            "publish_errors": self.errors,
            "transactions_per_second": round(total / uptime, 2) if uptime > 0 else 0.0,
            "uptime_seconds": round(uptime, 3),
            **more,
        }
