"""What the server answers a JetStream publish, decoded straight from its JSON, and the callbacks
the publishing windows (ack_window.py, fast_ingest.py) report each message's outcome to."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec

__all__ = ["AckCallback", "FailCallback", "PubAckInfo", "decode_ack"]


class _ApiError(msgspec.Struct):
    code: int = 0
    err_code: int = 0
    description: str = ""


class PubAckInfo(msgspec.Struct):
    """The server's acknowledgement of a JetStream publish (decoded straight from its JSON)."""

    stream: str = ""
    sequence: int = msgspec.field(default=0, name="seq")
    duplicate: bool = False
    error: _ApiError | None = None
    batch: str = ""  # fast ingest (fast_ingest.py): the batch whose ack covered the message


decode_ack = msgspec.json.Decoder(PubAckInfo).decode

AckCallback = Callable[[Any, PubAckInfo], None]
FailCallback = Callable[[Any, str], None]
