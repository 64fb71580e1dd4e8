"""What tests share besides the fixtures in conftest.py: the fixtures' types, raw publishing
with a plain nats-py client, and a free loopback port."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from nats_pubsub.server.embedded import EmbeddedServer
from nats_pubsub.testing import ServiceProcess

ServerFactory = Callable[..., EmbeddedServer]
CliFactory = Callable[..., ServiceProcess]


def publish_raw(
    url: str, subject: str, payloads: list[bytes], headers: dict[str, str] | None = None
) -> None:
    """Publish raw payloads with a plain nats-py client (for input our publisher never sends)."""
    import nats

    async def go() -> None:
        nc = await nats.connect(url)
        for payload in payloads:
            await nc.publish(subject, payload, headers=headers)
        await nc.flush()
        await nc.flush()
        await nc.drain()

    asyncio.run(go())


def free_port() -> int:
    """A loopback port nothing listens on right now (for servers started later in a test)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
