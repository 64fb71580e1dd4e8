"""Reading the server's protocol stream: a parser that hands routed messages over without awaits.

nats-py's parser matches a regular expression per protocol line and awaits the client's message
dispatch for every MSG. `RoutingParser` takes its place on one client (`_natspy.Hooks.
replace_parser`, which hands it nats-py's own handlers as `ClientOps`): MSG and HMSG lines are
split by hand and, for subscriptions routed by direct.py, queued for their handler straight away
(one synchronous call, no coroutine per message). Every other operation (+OK, -ERR, PING, PONG,
INFO) and every message of a subscription that is not routed goes to nats-py exactly as its own
parser would send it, with its own expressions. Protocol errors raise nats-py's ProtocolError,
which nats-py's read loop handles as it always has.
"""

from __future__ import annotations

import json
from typing import Any

from nats.errors import ProtocolError

from nats_pubsub.connection._natspy import PROTOCOL, SAME_HEADER_RULES, ClientOps, ParserBase
from nats_pubsub.connection.direct import DirectRouter

__all__ = ["RoutingParser", "plain_headers"]

_MSG = b"MSG "
_HMSG = b"HMSG "
_CRLF = b"\r\n"
# Used only when `_natspy.missing_names` found everything (so PROTOCOL is there).
_AWAITING_CONTROL_LINE = PROTOCOL.awaiting_control_line if PROTOCOL else 1
_MAX_CONTROL_LINE = PROTOCOL.max_control_line if PROTOCOL else 4096


def plain_headers(block: bytes) -> dict[str, str] | None:
    """The headers of a `NATS/1.0` block without an inline status, by nats-py's own rules.

    Names are stripped ASCII without inner white space, values stripped UTF-8 (bad bytes
    replaced); lines without a colon are skipped; None when there are none. nats-py's parser does
    the same with a per-character generator; blocks with a status line still go to nats-py.
    """
    found: dict[str, str] = {}
    for line in block[10:].split(_CRLF):
        name, colon, value = line.partition(b":")
        if not colon:
            continue
        try:
            key = name.strip().decode("ascii")
        except UnicodeDecodeError:
            continue
        if "".join(key.split()) == key:  # no white space inside (str.isspace's definition)
            found[key] = value.strip().decode("utf-8", "replace")
    return found or None


class RoutingParser(ParserBase):  # type: ignore[misc]  # nats-py's Parser, untyped
    """nats-py's parser with a fast lane for the messages of routed subscriptions."""

    def __init__(self, client: Any, ops: ClientOps, router: DirectRouter) -> None:
        super().__init__(client)
        self._ops = ops
        self._router = router

    async def parse(self, data: bytes = b"") -> None:
        """Consume `data` (appended to what is buffered); dispatch every complete operation."""
        self.buf.extend(data)
        if self.state != _AWAITING_CONTROL_LINE:
            # Left mid-message by nats-py's own parser (installed after it started): finish there.
            await super().parse()
            if self.state != _AWAITING_CONTROL_LINE:
                return
        buf = self.buf
        size = len(buf)
        pos = 0
        routes = self._router.routes
        try:
            while pos < size:
                headered = buf.startswith(_HMSG, pos)
                if not (headered or buf.startswith(_MSG, pos)):
                    del buf[:pos]
                    pos = size = 0
                    if not await self._other():
                        return
                    buf = self.buf
                    size = len(buf)
                    continue
                end = buf.find(_CRLF, pos)
                if end < 0:
                    break  # the rest of the line is still on its way
                args = bytes(buf[pos + (5 if headered else 4) : end]).split()
                try:
                    total = int(args[-1])
                    header_size = int(args[-2]) if headered else 0
                    sid = int(args[1])
                    subject = args[0]
                    reply = args[2] if len(args) == (5 if headered else 4) else b""
                except (IndexError, ValueError):
                    raise ProtocolError("nats: malformed MSG") from None
                start = end + 2
                stop = start + total
                if stop + 2 > size:
                    break  # the payload is still on its way
                payload = bytes(buf[start + header_size : stop])
                headers = bytes(buf[start : start + header_size]) if header_size else None
                pos = stop + 2
                route = routes.get(sid)
                if route is None:
                    await self._ops.process_msg(sid, subject, reply, payload, headers)
                    continue
                parsed = None
                if headers and route.wants:
                    parsed = (
                        plain_headers(headers)
                        if headers[8:10] == _CRLF and SAME_HEADER_RULES
                        else await self._ops.process_headers(headers)
                    )
                if not self._router.accept(route, subject, reply, payload, parsed):
                    await self._router.dropped(subject, sid)
        finally:
            if pos:
                del buf[:pos]

    async def _other(self) -> bool:
        """Handle the operation at the head of the buffer as nats-py does; False when partial."""
        buf, ops, protocol = self.buf, self._ops, PROTOCOL
        assert protocol is not None
        for expression, handle in (
            (protocol.ok, None),
            (protocol.ping, ops.ping),
            (protocol.pong, ops.pong),
        ):
            match = expression.match(buf)
            if match:
                del buf[: match.end()]
                if handle is not None:
                    await handle()
                return True
        match = protocol.err.match(buf)
        if match:
            await ops.err((match.group(1) or b"").decode().lower())
            del buf[: match.end()]
            return True
        match = protocol.info.match(buf)
        if match:
            await ops.info(json.loads(match.groups()[0].decode()))
            del buf[: match.end()]
            return True
        if len(buf) < _MAX_CONTROL_LINE and _CRLF in buf:
            raise ProtocolError("nats: unknown protocol")
        return False
