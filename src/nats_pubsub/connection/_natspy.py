"""nats-py's internals in one place: every private name we use, one capability check, one switch.

The connection layer's fast paths drive nats-py 2.16's client below its public API. `Hooks`
queues prebuilt frames on the client's pending buffer (or writes them to the socket when nothing
waits), takes the messages of routed subscriptions out of its dispatch (direct.py) and puts a
parser that splits MSG lines by hand (reader.py, on `ParserBase` and `PROTOCOL`) in place of
its own. `missing_names` lists the names below that a connected client lacks; `connect` runs it
once per connection and makes `Hooks` only when nothing is missing and `NATS_PUBSUB_FAST_PATH`
is not `0`. Without hooks the connection layer uses nats-py's public API only: the same records
and bytes on the wire, slower.

`guard_handshake` (the TLS guard, tls_guard.py) is a safety check, not a speed hook: the switch
leaves it on, and a nats-py without what it wraps refuses a TLS connection rather than risk
sending credentials in clear.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, NamedTuple

import nats.errors as nerr
from nats.aio import client as client_module
from nats.aio import subscription as subscription_module

parser_module: Any
try:
    from nats.protocol import parser as parser_module
except ImportError:  # laid out differently: `missing_names` reports it
    parser_module = None

__all__ = [
    "FAST_PATH_ENV",
    "PROTOCOL",
    "SAME_HEADER_RULES",
    "ClientOps",
    "Hooks",
    "ParserBase",
    "client_uses_tls",
    "fast_path_wanted",
    "guard_handshake",
    "missing_names",
    "nats_py_version",
    "transport_uses_tls",
]

FAST_PATH_ENV = "NATS_PUBSUB_FAST_PATH"
# Every nats-py name the hooks read or replace, by the object it belongs to.
CLIENT_NAMES = (
    "_pending",  # the list of frames nats-py's flusher writes
    "_pending_data_size",
    "_max_pending_size",
    "_flush_queue",  # the flusher's wake-up queue
    "_flush_pending",
    "_send_command",
    "_transport",
    "_error_cb",
    "_process_msg",  # replaced: routed subscriptions' messages go to direct.py
    "_process_headers",
    "_ps",  # replaced: reader.py's parser
    "_process_ping",
    "_process_pong",
    "_process_err",
    "_process_info",
    "stats",
    "is_draining_pubs",
    "max_payload",
)
HANDSHAKE_NAMES = ("_process_info", "_connect_command")  # wrapped by the TLS guard
TRANSPORT_NAMES = ("_io_writer",)  # TCP or TLS (a WebSocket transport has `_using_tls`)
PARSER_MODULE_NAMES = (
    "Parser",
    "AWAITING_CONTROL_LINE",
    "MAX_CONTROL_LINE_SIZE",
    "OK_RE",
    "PING_RE",
    "PONG_RE",
    "ERR_RE",
    "INFO_RE",
)
PARSER_STATE_NAMES = ("buf", "state", "msg_arg", "needed", "header_needed")
SUBSCRIPTION_NAMES = ("_id",)  # a subscription's sid, set in its __init__
CLIENT_MODULE_NAMES = ("parse_email",)  # None unless fast_mail_parser parses headers

ParserBase: Any = getattr(parser_module, "Parser", object)
# nats-py parses header lines itself (reader.plain_headers follows the same rules) unless the
# optional fast_mail_parser is installed.
SAME_HEADER_RULES = getattr(client_module, "parse_email", None) is None


class Protocol(NamedTuple):
    """nats-py's expressions for the protocol operations other than MSG and HMSG."""

    ok: Any
    ping: Any
    pong: Any
    err: Any
    info: Any
    awaiting_control_line: int
    max_control_line: int


def _protocol() -> Protocol | None:
    module = parser_module
    if module is None or not all(hasattr(module, name) for name in PARSER_MODULE_NAMES):
        return None
    return Protocol(
        module.OK_RE,
        module.PING_RE,
        module.PONG_RE,
        module.ERR_RE,
        module.INFO_RE,
        module.AWAITING_CONTROL_LINE,
        module.MAX_CONTROL_LINE_SIZE,
    )


PROTOCOL = _protocol()


class ClientOps(NamedTuple):
    """nats-py's own handling of what the routing parser does not take: unrouted messages,
    header blocks it does not parse itself, and the other operations."""

    process_msg: Callable[[int, bytes, bytes, bytes, bytes | None], Awaitable[None]]
    process_headers: Callable[[bytes], Awaitable[dict[str, str] | None]]
    ping: Callable[[], Awaitable[None]]
    pong: Callable[[], Awaitable[None]]
    err: Callable[[str], Awaitable[None]]
    info: Callable[[dict[str, Any]], Awaitable[None]]


def fast_path_wanted() -> bool:
    """False when NATS_PUBSUB_FAST_PATH turns the hooks off (0, false, no, off)."""
    return os.environ.get(FAST_PATH_ENV, "").strip().lower() not in ("0", "false", "no", "off")


def nats_py_version() -> str:
    """The installed nats-py's version, as it reports it to the server."""
    return str(getattr(client_module, "__version__", "unknown"))


def missing_names(client: Any) -> list[str]:
    """Every name the hooks use that this connected nats-py client (or its modules) lacks."""
    missing = [f"Client.{name}" for name in CLIENT_NAMES if not hasattr(client, name)]
    missing += [f"Client.{name}" for name in HANDSHAKE_NAMES if not hasattr(client, name)]
    transport = getattr(client, "_transport", None)
    if not hasattr(transport, "_using_tls"):  # TCP or TLS: written to directly
        missing += [f"transport.{n}" for n in TRANSPORT_NAMES if not hasattr(transport, n)]
    missing += [
        f"nats.protocol.parser.{name}"
        for name in PARSER_MODULE_NAMES
        if not hasattr(parser_module, name)
    ]
    parser = getattr(client, "_ps", None)
    missing += [f"Parser.{name}" for name in PARSER_STATE_NAMES if not hasattr(parser, name)]
    if parser_module is not None and not isinstance(parser, ParserBase):
        missing.append("Client._ps (not nats-py's Parser)")
    init = getattr(getattr(subscription_module, "Subscription", None), "__init__", None)
    sets = getattr(getattr(init, "__code__", None), "co_names", ())
    missing += [f"Subscription.{name}" for name in SUBSCRIPTION_NAMES if name not in sets]
    missing += [
        f"nats.aio.client.{name}"
        for name in CLIENT_MODULE_NAMES
        if not hasattr(client_module, name)
    ]
    return missing


class Hooks:
    """The fast paths' access to one connected nats-py client (every name `missing_names` checks).

    Frames given here are complete protocol commands; they are queued as nats-py's own
    `publish()` queues its commands: the same buffer, size limit, statistics and flusher.
    """

    __slots__ = ("_nc", "error_cb", "stats")

    _WRITE_NOW_LIMIT = 64 * 1024  # bytes in the socket's buffer beyond which frames wait

    def __init__(self, client: Any) -> None:
        self._nc = client
        self.stats: dict[str, int] = client.stats
        self.error_cb: Callable[[Exception], Awaitable[None]] = client._error_cb

    @property
    def max_payload(self) -> int:
        """The largest payload the server takes."""
        return int(self._nc.max_payload)

    def write_now(self, frame: bytes) -> bool:
        """Write `frame` to the socket at once if nothing is queued before it; False if it must
        be queued (the flusher then writes it on its next turn, with backpressure)."""
        nc = self._nc
        writer = getattr(nc._transport, "_io_writer", None)  # plain TCP or TLS, not WebSocket
        if nc._pending or writer is None:
            return False
        transport = writer.transport
        if transport.is_closing() or transport.get_write_buffer_size() > self._WRITE_NOW_LIMIT:
            return False
        writer.write(frame)
        return True

    async def send(self, frame: bytes) -> None:
        """One frame: written now when nothing waits, else queued for the flusher."""
        if self.write_now(frame):
            return
        nc = self._nc
        await nc._send_command(frame)
        if nc._flush_queue is not None and nc._flush_queue.empty():
            await nc._flush_pending()

    def queue(self, data: bytes) -> None:
        """Put frames on the client's pending buffer (`kick` wakes the flusher)."""
        nc = self._nc
        nc._pending.append(data)
        nc._pending_data_size += len(data)

    async def kick(self) -> None:
        """Wake the client's flusher, or wait for it when over the client's buffer limit."""
        nc = self._nc
        if 0 < nc._max_pending_size < nc._pending_data_size:
            await nc._flush_pending(force_flush=True)
        elif nc._flush_queue is not None and nc._flush_queue.empty():
            await nc._flush_pending()

    def take_dispatch(
        self, dispatch: Callable[[int, bytes, bytes, bytes, bytes | None], Awaitable[None]]
    ) -> Callable[[int, bytes, bytes, bytes, bytes | None], Awaitable[None]]:
        """Route every message the client receives to `dispatch`; returns nats-py's own."""
        original: Callable[[int, bytes, bytes, bytes, bytes | None], Awaitable[None]]
        original = self._nc._process_msg
        self._nc._process_msg = dispatch
        return original

    @property
    def process_headers(self) -> Callable[[bytes], Awaitable[dict[str, str] | None]]:
        """nats-py's parser of a header block."""
        parse: Callable[[bytes], Awaitable[dict[str, str] | None]] = self._nc._process_headers
        return parse

    @staticmethod
    def sid(subscription: Any) -> int:
        """The sid nats-py gave a subscription."""
        return int(subscription._id)

    def replace_parser(self, make: Callable[[Any, ClientOps], Any]) -> None:
        """Put `make(client, ops)` (a `ParserBase`) in place of the client's parser, taking
        over whatever it holds: a partial operation must not be lost."""
        nc = self._nc
        old = nc._ps
        ops = ClientOps(
            nc._process_msg,
            nc._process_headers,
            nc._process_ping,
            nc._process_pong,
            nc._process_err,
            nc._process_info,
        )
        new = make(nc, ops)
        new.buf, new.state, new.msg_arg = old.buf, old.state, old.msg_arg
        new.needed, new.header_needed = old.needed, old.header_needed
        nc._ps = new


def transport_uses_tls(transport: Any) -> bool:
    """True when nats-py's transport is encrypted (TCP upgraded or started as TLS, or wss://);
    False for anything it cannot tell (so a guard fails closed)."""
    writer = getattr(transport, "_io_writer", None)
    if writer is not None:
        return writer.get_extra_info("ssl_object") is not None
    return getattr(transport, "_using_tls", None) is True  # the WebSocket transport


def guard_handshake(client: Any, upgrade: Callable[[bool, Mapping[str, Any]], bool]) -> bool:
    """Make `client` (before `connect`) build CONNECT only on a TLS transport, and take TLS when
    `upgrade(transport_tls, info)` says so on the first INFO; False when it lacks the methods.

    On a plain transport CONNECT raises nats-py's `SecureConnWantedError` before a byte of it
    (or any credential) is written.
    """
    if not all(callable(getattr(client, name, None)) for name in HANDSHAKE_NAMES):
        return False
    process_info = client._process_info
    connect_command = client._connect_command

    async def checked_info(info: dict[str, Any], initial_connection: bool = False) -> None:
        # nats-py reads `tls_required` from this same dict right after, to decide on upgrading.
        if initial_connection and upgrade(transport_uses_tls(client._transport), info):
            info["tls_required"] = True
        await process_info(info, initial_connection=initial_connection)

    def checked_connect() -> bytes:
        if not transport_uses_tls(client._transport):
            raise nerr.SecureConnWantedError
        command: bytes = connect_command()
        return command

    client._process_info = checked_info
    client._connect_command = checked_connect
    return True


def client_uses_tls(client: Any) -> bool:
    """True when `client`'s connection is encrypted now (see `transport_uses_tls`)."""
    return transport_uses_tls(getattr(client, "_transport", None))
