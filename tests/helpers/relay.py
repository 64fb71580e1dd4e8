"""A recording TCP relay for tests: what a client sends through it is kept, byte for byte.

It stands where an attacker on the network would: between a client and a server, seeing every
byte. `RecordingRelay(target_port)` listens on a free loopback port and forwards both ways;
`sent` is everything clients wrote. `retarget` points new connections at another server and
`cut` drops the open ones (so clients reconnect through the relay to the new target).
`drop`, when set, is a pattern of client bytes that never reach the server (a lost ack).
"""

from __future__ import annotations

import contextlib
import re
import socket
import threading

__all__ = ["RecordingRelay"]


class RecordingRelay:
    """Forward loopback connections to 127.0.0.1:`target_port`, recording what clients send."""

    __test__ = False  # not a pytest test class

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._listener.getsockname()[1])
        self._lock = threading.Lock()
        self._sent = bytearray()
        self._open: list[socket.socket] = []
        self.connections = 0
        self.drop: re.Pattern[bytes] | None = None  # client bytes matching it are not forwarded
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        """nats:// URL of the relay (give the scheme you need to the client yourself)."""
        return f"nats://127.0.0.1:{self.port}"

    @property
    def sent(self) -> bytes:
        """Every byte clients sent through the relay so far."""
        with self._lock:
            return bytes(self._sent)

    def retarget(self, port: int) -> None:
        """Send new connections to 127.0.0.1:`port`."""
        self.target_port = port

    def cut(self) -> None:
        """Close every open connection (both sides), as a network failure would."""
        with self._lock:
            sockets, self._open = self._open, []
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def close(self) -> None:
        """Stop listening and drop every connection."""
        self._closed = True
        self._listener.close()
        self.cut()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(("127.0.0.1", self.target_port), timeout=5)
            except OSError:
                client.close()
                continue
            server.settimeout(None)
            with self._lock:
                self.connections += 1
                self._open += [client, server]
            threading.Thread(target=self._pipe, args=(client, server, True), daemon=True).start()
            threading.Thread(target=self._pipe, args=(server, client, False), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket, record: bool) -> None:
        try:
            while data := source.recv(65536):
                if record:
                    with self._lock:
                        self._sent += data
                    drop = self.drop
                    if drop is not None:
                        data = drop.sub(b"", data)
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
