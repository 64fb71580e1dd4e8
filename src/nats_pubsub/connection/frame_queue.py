"""Publishing many messages per event-loop turn: prebuilt frames queued on the client at once.

Part of the connection layer. `FrameQueue` hands prebuilt protocol frames (domain/wire.py) to
the client in one piece per batch through `_natspy.Hooks`, exactly as its own `publish()` queues
them one by one: the same buffer, size limit, statistics and flusher. Without the hooks (another
nats-py, or NATS_PUBSUB_FAST_PATH=0) there are no frames: messages given with `add_message`
are published one by one through nats-py's public API at `flush`, the same bytes on the wire.
"""

from __future__ import annotations

from nats_pubsub.connection.core import Connection
from nats_pubsub.connection.error_map import CLIENT_ERRORS, map_error
from nats_pubsub.domain.wire import HEADER_OVERHEAD, HPUB_FORMAT, HpubPrefix, check_msg_id

__all__ = ["FrameQueue"]

_PREFIXES_MAX = 1024  # subjects whose HPUB prefix is kept


class FrameQueue:
    """Frames for one connection, collected during an event-loop turn and queued in one piece.

    Frames may be added while `is_open()`: connected, not draining, with the fast path's hooks.
    Otherwise publish through `Connection` (which also buffers while reconnecting), or, where
    the caller numbers messages itself, give them to `add_message` when not `usable`.
    """

    __slots__ = (
        "_conn",
        "_frames",
        "_hooks",
        "_messages",
        "_nc",
        "_payload_bytes",
        "_plain",
        "_prefixes",
        "_starts",
    )

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._hooks = conn.hooks
        self._nc = conn.client
        self._frames: list[bytes] = []
        self._messages = 0
        self._payload_bytes = 0
        self._prefixes: dict[str, HpubPrefix] = {}
        self._starts: dict[str, bytes] = {}  # subject -> its HPUB command start
        # Without hooks: (subject, reply, Nats-Msg-Id or "", payload), published at `flush`.
        self._plain: list[tuple[str, str, str, bytes]] = []

    @property
    def usable(self) -> bool:
        """False without the fast path's hooks: then only `add_message` may be used."""
        return self._hooks is not None

    def is_open(self) -> bool:
        """True when frames can be queued on the client now."""
        nc = self._nc
        return self._hooks is not None and nc.is_connected and not nc.is_draining_pubs

    @property
    def max_payload(self) -> int:
        """The largest payload the server accepts (larger ones go through `Connection`)."""
        return int(self._nc.max_payload)

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

    def add_message(self, subject: str, reply: str, msg_id: str, payload: bytes) -> None:
        """Collect one message to publish through nats-py's public API (no hooks): with a
        `Nats-Msg-Id` header unless `msg_id` is empty."""
        self._plain.append((subject, reply, msg_id, payload))

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
        hooks = self._hooks
        if hooks is None:
            await self._publish_plain()
            return
        frames = self._frames
        if frames:
            data = b"".join(frames)
            frames.clear()
            hooks.queue(data)
            stats = hooks.stats
            stats["out_msgs"] += self._messages
            stats["out_bytes"] += self._payload_bytes
            self._messages = self._payload_bytes = 0
        try:
            await hooks.kick()
        except CLIENT_ERRORS as exc:
            raise map_error(exc) from exc

    async def _publish_plain(self) -> None:
        """Publish what `add_message` collected, in order, through nats-py's `publish()`."""
        messages, self._plain = self._plain, []
        for subject, reply, msg_id, payload in messages:
            headers = {"Nats-Msg-Id": msg_id} if msg_id else None
            await self._conn.publish(subject, payload, headers, reply)
