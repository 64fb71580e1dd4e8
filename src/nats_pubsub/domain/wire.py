"""NATS protocol frames built directly, for the publish hot path (pure, no I/O)."""

from __future__ import annotations

__all__ = [
    "HEADER_OVERHEAD",
    "HPUB_FORMAT",
    "HPUB_REPLY_FORMAT",
    "HpubPrefix",
    "check_msg_id",
    "hpub_frame",
    "hpub_numbered_format",
    "msg_id_header",
]

_HEADER_START = b"NATS/1.0\r\nNats-Msg-Id: "
_HEADER_END = b"\r\n\r\n"
HEADER_OVERHEAD = len(_HEADER_START) + len(_HEADER_END)
# An HPUB command with a `Nats-Msg-Id` header, as %-format: the command start (b"HPUB subject ",
# or b"HPUB subject reply "), header size, total size, the id, the payload.
HPUB_FORMAT = b"%b%d %d\r\nNATS/1.0\r\nNats-Msg-Id: %b\r\n\r\n%b\r\n"
# The same with a reply subject after the command start.
HPUB_REPLY_FORMAT = b"%b%b %d %d\r\nNATS/1.0\r\nNats-Msg-Id: %b\r\n\r\n%b\r\n"


def check_msg_id(msg_id: str) -> str:
    """Return `msg_id` if it can be a header value, else raise ValueError."""
    if "\r" in msg_id or "\n" in msg_id:
        raise ValueError("a Nats-Msg-Id cannot contain a line break")
    return msg_id


def msg_id_header(msg_id: str) -> bytes:
    """The header block of a message whose only header is `Nats-Msg-Id`."""
    return _HEADER_START + check_msg_id(msg_id).encode() + _HEADER_END


def hpub_frame(subject: str, msg_id: str, payload: bytes) -> bytes:
    """One `HPUB` command: subject, header and payload sizes, header block, payload."""
    header = msg_id_header(msg_id)
    size = len(header)
    return f"HPUB {subject} {size} {size + len(payload)}\r\n".encode() + header + payload + b"\r\n"


def hpub_numbered_format(subject: str, id_prefix: str) -> tuple[bytes, int]:
    """An HPUB %-format for messages to `subject` whose `Nats-Msg-Id` is `id_prefix` and a
    number, and the size of their header block less the number's digits.

    Filled with (header size, header size + payload size, number's digits (bytes), payload) it
    is byte for byte `hpub_frame(subject, f"{id_prefix}{number}", payload)`.
    """
    prefix = check_msg_id(id_prefix).encode()
    start = f"HPUB {subject} ".encode().replace(b"%", b"%%")
    escaped = prefix.replace(b"%", b"%%")
    form = start + b"%d %d\r\n" + _HEADER_START + escaped + b"%b" + _HEADER_END + b"%b\r\n"
    return form, HEADER_OVERHEAD + len(prefix)


class HpubPrefix:
    """Frames for one subject, the constant start of the command made once.

    The id comes already encoded and checked (`check_msg_id`): `frame` is byte for byte what
    `hpub_frame` builds; `reply_frame` adds a reply subject, as nats-py's own HPUB does.
    """

    __slots__ = ("start",)

    def __init__(self, subject: str) -> None:
        self.start = f"HPUB {subject} ".encode()

    def frame(self, msg_id: bytes, payload: bytes) -> bytes:
        """The `HPUB` command carrying `payload` with the `Nats-Msg-Id` header `msg_id`."""
        size = HEADER_OVERHEAD + len(msg_id)
        return HPUB_FORMAT % (
            self.start,
            size,
            size + len(payload),
            msg_id,
            payload,
        )

    def reply_frame(self, reply: bytes, msg_id: bytes, payload: bytes) -> bytes:
        """As `frame`, with a reply subject (where a JetStream ack is sent)."""
        size = HEADER_OVERHEAD + len(msg_id)
        return HPUB_REPLY_FORMAT % (
            self.start,
            reply,
            size,
            size + len(payload),
            msg_id,
            payload,
        )
