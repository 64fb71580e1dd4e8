"""Payments as the dashboard shows them, pure: accepted and declined per second, the decline
rate, and the last declines with their reason and amount.

A message on `payments.>` counts by its subject's last token (`accepted`, `declined`, as the
payment publisher sends them) or else by its JSON `status`; accepted ones are not decoded at
all. The list of the last declines also holds the other payment problems, each with the
severity the message logger gives it (`capture.classify`): a decline or a failed/error status is
ERROR, a payload that cannot be read is WARNING.
"""

from __future__ import annotations

from collections import deque
from typing import Any, Final

import msgspec

from nats_pubsub.domain.capture import classify, extract_fields, render_payload
from nats_pubsub.domain.timeutil import format_ns

__all__ = [
    "LAST_DECLINES",
    "PAYMENT_PREFIX",
    "Decline",
    "PaymentSecond",
    "PaymentTotals",
    "PaymentWatch",
]

PAYMENT_PREFIX: Final = "payments."
LAST_DECLINES: Final = 20
_ACCEPTED: Final = frozenset({"accepted", "approved"})
_MAX_TEXT: Final = 120
_READ_BYTES: Final = 4096


class Decline(msgspec.Struct, frozen=True):
    """A declined (or failed, or unreadable) payment: what, why, how much, how bad."""

    received: str
    subject: str
    level: str  # ERROR (declined, failed), WARNING (unreadable)
    transaction_id: str = ""
    reason: str = ""
    code: str = ""
    amount: float | None = None
    currency: str = ""
    card_type: str = ""
    last_four: str = ""


class PaymentSecond(msgspec.Struct, frozen=True):
    """One second of payments."""

    t: int
    accepted: int
    declined: int


class PaymentTotals(msgspec.Struct, frozen=True):
    """Payments since the gateway began watching."""

    accepted: int
    declined: int
    decline_rate: float


def _text(value: Any) -> str:
    return value[:_MAX_TEXT] if isinstance(value, str) else ""


def _amount(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _decline(subject: str, data: bytes, level: str, parsed: Any, received_ns: int) -> Decline:
    top = parsed if isinstance(parsed, dict) else {}
    found = extract_fields(parsed)
    return Decline(
        received=format_ns(received_ns),
        subject=subject,
        level=level,
        transaction_id=_text(found.get("transaction_id")),
        reason=_text(found.get("decline_reason") or top.get("error") or found.get("status")),
        code=_text(top.get("decline_code")),
        amount=_amount(found.get("amount")),
        currency=_text(top.get("currency")),
        card_type=_text(found.get("card_type")),
        last_four=_text(top.get("last_four")),
    )


class PaymentWatch:
    """Accepted and declined counts for the second under way and since the start, the last
    declines, and a five-minute history."""

    def __init__(self) -> None:
        self.accepted = self.declined = 0  # this second
        self.total_accepted = self.total_declined = 0
        self.last: deque[Decline] = deque(maxlen=LAST_DECLINES)
        self.history: deque[PaymentSecond] = deque(maxlen=300)
        self.fresh: list[Decline] = []  # declines seen since the last close_second

    def see(self, subject: str, data: bytes, received_ns: int) -> None:
        """One message on a `payments.` subject."""
        outcome = subject.rpartition(".")[2]
        if outcome == "accepted":
            self.accepted += 1
            return
        rendered = render_payload(data[:_READ_BYTES], _READ_BYTES)
        level = classify(subject, rendered)
        status = extract_fields(rendered.parsed).get("status")
        status = status.lower() if isinstance(status, str) else ""
        if outcome == "declined" or status == "declined":
            self.declined += 1
        elif status in _ACCEPTED and level == "INFO":
            self.accepted += 1
            return
        if level == "INFO":
            return  # neither a decline nor a problem: some other payment message
        problem = _decline(subject, data, level, rendered.parsed, received_ns)
        self.last.append(problem)
        self.fresh.append(problem)

    def close_second(self, t: int) -> tuple[PaymentSecond, list[Decline]]:
        """End the second under way: its counts and the declines seen in it."""
        second = PaymentSecond(t, self.accepted, self.declined)
        self.total_accepted += self.accepted
        self.total_declined += self.declined
        self.accepted = self.declined = 0
        self.history.append(second)
        fresh, self.fresh = self.fresh, []
        return second, fresh

    def totals(self) -> PaymentTotals:
        """Counts since the start and the share declined."""
        total = self.total_accepted + self.total_declined
        rate = round(self.total_declined / total, 4) if total else 0.0
        return PaymentTotals(self.total_accepted, self.total_declined, rate)
