"""The NATS service API (ADR-32) on our connection: announcing a service with nats-py's
`nats.micro`, and asking every service on the bus to answer.

Part of the connection layer. An announced service answers `$SRV.PING`, `$SRV.INFO` and
`$SRV.STATS` (all services, by name, by name and id) from nats-py's own subscriptions, beside
the service's work: nothing is added to its message path. Its one endpoint, `status`, answers
the service's counters, which STATS carries as that endpoint's `data`. `gather` sends one
request and collects every answer until the answers stop coming.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as installed_version
from typing import Any, Final

import msgspec
import nats.errors as nerr
import nats.micro as micro
from nats.micro.request import Request as MicroRequest

from nats_pubsub.connection.core import Connection
from nats_pubsub.connection.error_map import CLIENT_ERRORS, map_error
from nats_pubsub.domain.service_api import status_subject

__all__ = ["Announcement", "announce", "gather", "package_version"]

Counters = Callable[[], dict[str, Any]]
_DEFAULT_VERSION: Final = "0.0.0"
_encode = msgspec.json.encode


class Announcement:
    """A service answering the service API until `stop`."""

    def __init__(self, service: micro.service.Service) -> None:
        self._service = service

    @property
    def id(self) -> str:
        """This instance's id in the service API."""
        return self._service.id

    async def stop(self) -> None:
        """Stop answering (before the connection drains)."""
        with contextlib.suppress(*CLIENT_ERRORS):
            await self._service.stop()


def package_version() -> str:
    """This package's version (a semantic version, as the service API wants)."""
    try:
        return installed_version("nats-pubsub")
    except PackageNotFoundError:
        return _DEFAULT_VERSION


async def announce(
    conn: Connection,
    name: str,
    description: str,
    metadata: dict[str, str],
    counters: Counters,
    version: str | None = None,
) -> Announcement:
    """Answer the service API as `name` (ADR-32: letters, digits, `-`, `_`), with `counters()`
    read at each STATS request and each `status` request; `version`: this package's."""

    def stats_data(_: Any) -> dict[str, Any]:
        return counters()

    async def status(request: MicroRequest) -> None:
        await request.respond(_encode(counters()))

    try:
        service = await micro.add_service(
            conn.client,
            name=name,
            version=version or package_version(),
            description=description,
            metadata=metadata,
            stats_handler=stats_data,
        )
        await service.add_endpoint(
            name="status", subject=status_subject(name, service.id), handler=status
        )
    except CLIENT_ERRORS as exc:
        raise map_error(exc) from exc
    return Announcement(service)


async def gather(
    conn: Connection, subject: str, *, wait: float = 1.0, quiet: float = 0.25, limit: int = 1000
) -> list[bytes]:
    """Every answer to one empty request on `subject`: collected until none came for `quiet`
    seconds after the last (or `wait` seconds in all, or `limit` answers)."""
    nc = conn.client
    inbox = nc.new_inbox()
    answers: list[bytes] = []
    loop = asyncio.get_running_loop()
    try:
        sub = await nc.subscribe(inbox, max_msgs=limit)
        await nc.publish(subject, b"", reply=inbox)
        end = loop.time() + wait
        while len(answers) < limit:
            left = end - loop.time()
            timeout = min(left, quiet) if answers else left
            if timeout <= 0:
                break
            try:
                msg = await sub.next_msg(timeout)
            except (nerr.TimeoutError, TimeoutError):
                break
            if msg.data and not (msg.headers and msg.headers.get("Status")):
                answers.append(msg.data)  # a status message (no responders) is not an answer
        with contextlib.suppress(*CLIENT_ERRORS):
            await sub.unsubscribe()
    except CLIENT_ERRORS as exc:
        raise map_error(exc) from exc
    return answers
