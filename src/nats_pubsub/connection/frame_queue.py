"""Publishing many messages per event-loop turn: prebuilt frames queued on the client at once.

Part of the connection layer (it drives the nats-py client directly). `FrameQueue` hands prebuilt
protocol frames (wire.py) to the client in one piece per batch, exactly as its own `publish()`
queues them one by one: the same buffer, size limit, statistics and flusher.
"""

from __future__ import annotations

from typing import Any

from nats_pubsub.connection.core import Connection
from nats_pubsub.connection.error_map import CLIENT_ERRORS, map_error
from nats_pubsub.domain.wire import HEADER_OVERHEAD, HPUB_FORMAT, HpubPrefix, check_msg_id

__all__ = ["FrameQueue"]

# nats-py internals a frame queue uses besides those `Connection.fast_publish` checks.
_QUEUE_ATTRS = ("_pending", "_pending_data_size", "_max_pending_size", "is_draining_pubs")
_PREFIXES_MAX = 1024  # subjects whose HPUB prefix is kept


class FrameQueue:
    """Frames for one connection, collected during an event-loop turn and queued in one piece.

    Usable while `is_open()`: connected, not draining, on a nats-py with the internals used.
    Otherwise publish through `Connection` (which also buffers while reconnecting).
    """

    __slots__ = (
        "_conn",
        "_frames",
        "_messages",
        "_nc",
        "_payload_bytes",
        "_prefixes",
        "_starts",
        "_usable",
    )

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._nc: Any = conn.client
        self._usable = conn.fast_publish and all(hasattr(self._nc, a) for a in _QUEUE_ATTRS)
        self._frames: list[bytes] = []
        self._messages = 0
        self._payload_bytes = 0
        self._prefixes: dict[str, HpubPrefix] = {}
        self._starts: dict[str, bytes] = {}  # subject -> its HPUB command start

    @property
    def usable(self) -> bool:
        """False on a nats-py without the internals a frame queue uses."""
        return self._usable

    def is_open(self) -> bool:
        """True when frames can be queued on the client now."""
        nc = self._nc
        return self._usable and nc.is_connected and not nc.is_draining_pubs

    @property
    def max_payload(self) -> int:
        """The largest payload the server accepts (larger ones go through `Connection`)."""
        return int(self._nc._max_payload)

    def prefix(self, subject: str) -> HpubPrefix:
        """The frame builder of `subject` (kept for the subjects seen most recently)."""
        prefix = self._prefixes.get(subject)
        if prefix is None:
            if len(self._prefixes) >= _PREFIXES_MAX:
                self._prefixes.clear()
                self._starts.clear()
            prefix = self._prefixes[subject] = HpubPrefix(subject)
        return prefix

    def add(self, frame: bytes, payload_size: int, messages: int = 1) -> None:
        """Collect a frame carrying a payload of `payload_size` bytes (or several frames in one
        piece: `messages` of them, `payload_size` bytes of payload in all)."""
        self._frames.append(frame)
        self._messages += messages
        self._payload_bytes += payload_size

    def start(self, subject: str) -> bytes:
        """The start of an HPUB command to `subject` (b"HPUB subject ")."""
        start = self._starts.get(subject)
        if start is None:
            start = self._starts[subject] = self.prefix(subject).start
        return start

    def add_hpub(self, subject: str, msg_id: str, payload: bytes) -> None:
        """Collect one message with a `Nats-Msg-Id` header (the frame `wire.hpub_frame` builds)."""
        start = self._starts.get(subject) or self.start(subject)
        if "\r" in msg_id or "\n" in msg_id:
            check_msg_id(msg_id)  # raises
        mid = msg_id.encode()
        size = HEADER_OVERHEAD + len(mid)
        length = len(payload)
        self._frames.append(HPUB_FORMAT % (start, size, size + length, mid, payload))
        self._messages += 1
        self._payload_bytes += length

    async def flush(self) -> None:
        """Queue the frames collected on the client and let its flusher write them."""
        frames = self._frames
        if frames:
            nc = self._nc
            data = b"".join(frames)
            frames.clear()
            nc._pending.append(data)
            nc._pending_data_size += len(data)
            nc.stats["out_msgs"] += self._messages
            nc.stats["out_bytes"] += self._payload_bytes
            self._messages = self._payload_bytes = 0
        try:
            await self.kick()
        except CLIENT_ERRORS as exc:
            raise map_error(exc) from exc

    async def kick(self) -> None:
        """Wake the client's flusher, or wait for it when over the client's buffer limit."""
        nc = self._nc
        if 0 < nc._max_pending_size < nc._pending_data_size:
            await nc._flush_pending(force_flush=True)
        elif nc._flush_queue is not None and nc._flush_queue.empty():
            await nc._flush_pending()
