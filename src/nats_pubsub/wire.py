"""NATS protocol frames built directly, for the publish hot path (pure, no I/O)."""

from __future__ import annotations

__all__ = ["hpub_frame", "msg_id_header"]

_HEADER_START = b"NATS/1.0\r\nNats-Msg-Id: "
_HEADER_END = b"\r\n\r\n"


def msg_id_header(msg_id: str) -> bytes:
    """The header block of a message whose only header is `Nats-Msg-Id`."""
    if "\r" in msg_id or "\n" in msg_id:
        raise ValueError("a Nats-Msg-Id cannot contain a line break")
    return _HEADER_START + msg_id.encode() + _HEADER_END


def hpub_frame(subject: str, msg_id: str, payload: bytes) -> bytes:
    """One `HPUB` command: subject, header and payload sizes, header block, payload."""
    header = msg_id_header(msg_id)
    size = len(header)
    return f"HPUB {subject} {size} {size + len(payload)}\r\n".encode() + header + payload + b"\r\n"
