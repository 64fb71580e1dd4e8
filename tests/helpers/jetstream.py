"""A stream's messages as stored, and a server paused until a process says something (JetStream
tests)."""

from __future__ import annotations

import asyncio
import os
import signal
from typing import Any

from nats_pubsub.server.embedded import EmbeddedServer


def stream_messages(url: str, stream: str) -> list[dict[str, Any]]:
    """Every message in a stream (subject, seq, headers, data) via a plain nats-py client."""
    import nats

    async def go() -> list[dict[str, Any]]:
        nc = await nats.connect(url)
        jsm = nc.jsm()
        info = await jsm.stream_info(stream)
        out = []
        for seq in range(info.state.first_seq, info.state.last_seq + 1):
            msg = await jsm.get_msg(stream, seq)
            out.append(
                {"subject": msg.subject, "seq": msg.seq, "headers": msg.headers, "data": msg.data}
            )
        await nc.close()
        return out

    return asyncio.run(go())


def pause_server_until(server: EmbeddedServer, proc: Any, message: str) -> None:
    """Stop `server` (SIGSTOP: it hears nothing) until `proc` logs `message`, then resume it."""
    assert server.pid is not None
    os.kill(server.pid, signal.SIGSTOP)
    try:
        proc.logs.wait_for(message, timeout=60)
    finally:
        os.kill(server.pid, signal.SIGCONT)
