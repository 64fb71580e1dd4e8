"""The classic pattern, for comparison: stdlib `json`, `datetime.fromisoformat`, stdlib logging.

This is how a Python NATS service is commonly written: decode with `json.loads`, check the
fields by hand, parse the timestamp into a `datetime`, and log through `logging` with a JSON
formatter, one line per message. It carries the same fields as our records, so the comparison is
about the machinery, not the content. Only the bench package uses it.
"""

from __future__ import annotations

import json
import logging
import os
import random
from datetime import UTC, datetime
from typing import Any

__all__ = ["ClassicPublisher", "JsonFormatter", "classic_logger", "classic_receive"]

_REQUIRED = {"message_id": str, "timestamp": str, "source": str, "sequence": int, "data": dict}
_DATA_REQUIRED = {"event_type": str, "value": int, "status": str, "description": str}
_RESERVED = frozenset(vars(logging.makeLogRecord({})))


class JsonFormatter(logging.Formatter):
    """One JSON object per record: timestamp, level, logger, message, module, function, fields."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "timestamp": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "module": record.module,
            "function": record.funcName,
        }
        out.update((k, v) for k, v in vars(record).items() if k not in _RESERVED)
        return json.dumps(out, default=str)


def classic_logger(name: str) -> logging.Logger:
    """A stdlib logger writing JSON lines to /dev/null (the terminal's speed is not measured)."""
    logger = logging.getLogger(f"bench.classic.{name}")
    logger.handlers.clear()
    handler = logging.StreamHandler(open(os.devnull, "w"))  # noqa: SIM115 - lives with the logger
    handler.setFormatter(JsonFormatter())
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    return logger


def _check(obj: Any, required: dict[str, type]) -> None:
    if not isinstance(obj, dict):
        raise ValueError("not an object")
    for name, kind in required.items():
        if not isinstance(obj.get(name), kind):
            raise ValueError(f"{name} missing or not {kind.__name__}")


def classic_receive(logger: logging.Logger, subject: str, data: bytes, reply: str) -> float | None:
    """Decode, validate and log one message the classic way; its latency in ms, None if invalid."""
    try:
        event = json.loads(data.decode("utf-8"))
        _check(event, _REQUIRED)
        _check(event["data"], _DATA_REQUIRED)
        sent = datetime.fromisoformat(event["timestamp"].replace("Z", "+00:00"))
    except ValueError as exc:
        logger.error("Invalid message", extra={"subject": subject, "error": str(exc)})
        return None
    latency_ms = round((datetime.now(UTC) - sent).total_seconds() * 1000, 3)
    logger.info(
        "Message received",
        extra={
            "message_id": event["message_id"],
            "subject": subject,
            "source": event["source"],
            "sequence": event["sequence"],
            "event_type": event["data"]["event_type"],
            "size_bytes": len(data),
            "latency_ms": latency_ms,
            "reply_to": reply or None,
        },
    )
    return latency_ms


class ClassicPublisher:
    """Builds events as dicts with `datetime.now().isoformat()` and `json.dumps`, logs each."""

    def __init__(self, source: str, logger: logging.Logger, pad: str = "") -> None:
        self.source = source
        self.sequence = 0
        self._logger = logger
        self._pad = pad

    def next_payload(self) -> bytes:
        """The next event, encoded."""
        self.sequence += 1
        event_type = random.choice(("user.login", "user.logout", "order.created"))
        event = {
            "message_id": f"{self.source}-{self.sequence}",
            "timestamp": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
            "source": self.source,
            "sequence": self.sequence,
            "data": {
                "event_type": event_type,
                "value": random.randint(1, 1000),
                "random_field": random.choice(("alpha", "beta", "gamma", "delta")),
                "status": "success",
                "description": f"{event_type} event #{self.sequence}{self._pad}",
            },
        }
        return json.dumps(event).encode("utf-8")

    def published(self, subject: str, payload: bytes) -> None:
        """The `Message published` line."""
        self._logger.info(
            "Message published",
            extra={
                "message_id": f"{self.source}-{self.sequence}",
                "subject": subject,
                "sequence": self.sequence,
                "size_bytes": len(payload),
            },
        )
