"""Direct delivery: core NATS messages handed to a plain function, in batches, off the read loop.

nats-py delivers each message by building a `Msg`, putting it on an asyncio queue and waking the
subscription's task to await a callback coroutine: about half of its per-message receive cost.
A `DirectRouter` sits in front of one client's message dispatch (through `_natspy.Hooks`): messages
for the subscriptions it routes (by sid) are appended to a per-subscription deque, and one
callback per event-loop turn hands them, in order, to a synchronous handler
`handler(subject, reply, data, headers)`. Everything else (JetStream consumers, request inboxes)
goes to nats-py as before.

What nats-py guarantees is kept: messages stay in order; a subscription holds at most its pending
limits (messages, bytes) and drops beyond them as a slow consumer, reported through the error
callback like nats-py's own drops; a handler that raises is reported, never breaks the read loop;
headers are parsed by nats-py's own parser, only for handlers that ask for them.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable

from nats_pubsub.connection._natspy import Hooks
from nats_pubsub.connection.callbacks import is_power_of_two
from nats_pubsub.logs.logger import Logger

__all__ = ["DirectHandler", "DirectRouter"]

# (subject, reply, data, headers or None); what it returns is ignored.
DirectHandler = Callable[[str, str, bytes, dict[str, str] | None], object]


class _Route:
    """One routed subscription: its handler and the messages waiting for the next batch."""

    __slots__ = ("handler", "max_bytes", "max_msgs", "queue", "run_scheduled", "size", "wants")

    def __init__(
        self, handler: DirectHandler, wants_headers: bool, max_msgs: int, max_bytes: int
    ) -> None:
        self.handler = handler
        self.wants = wants_headers
        self.max_msgs = max_msgs
        self.max_bytes = max_bytes
        self.queue: deque[tuple[bytes, bytes, bytes, dict[str, str] | None]] = deque()
        self.size = 0
        self.run_scheduled = False


class DirectRouter:
    """Routes the messages of chosen subscriptions of one nats-py client to direct handlers."""

    def __init__(
        self, hooks: Hooks, slow_consumer: Callable[[str, int], Exception], log: Logger
    ) -> None:
        self._log = log
        self._stats = hooks.stats
        self._process_headers = hooks.process_headers
        self._on_error: Callable[[Exception], Awaitable[None]] = hooks.error_cb
        self._slow_consumer = slow_consumer
        self._routes: dict[int, _Route] = {}
        self.handler_errors = 0
        self._original = hooks.take_dispatch(self._dispatch)

    def route(
        self,
        sid: int,
        handler: DirectHandler,
        *,
        wants_headers: bool,
        max_msgs: int,
        max_bytes: int,
    ) -> None:
        """Deliver the messages of subscription `sid` to `handler` from now on."""
        self._routes[sid] = _Route(handler, wants_headers, max_msgs, max_bytes)

    def forget(self, sid: int) -> None:
        """Subscription `sid` ended: no route for it any more."""
        self._routes.pop(sid, None)

    @property
    def routes(self) -> dict[int, _Route]:
        """The routed subscriptions by sid (read by reader.py's parser)."""
        return self._routes

    async def _dispatch(
        self, sid: int, subject: bytes, reply: bytes, data: bytes, headers: bytes | None
    ) -> None:
        """nats-py's message dispatch, with routed sids taken out of it."""
        route = self._routes.get(sid)
        if route is None:
            await self._original(sid, subject, reply, data, headers)
            return
        parsed = await self._process_headers(headers) if headers and route.wants else None
        if not self.accept(route, subject, reply, data, parsed):
            await self.dropped(subject, sid)

    async def dropped(self, subject: bytes, sid: int) -> None:
        """Report a message dropped over its subscription's pending limits, as nats-py would."""
        await self._on_error(self._slow_consumer(subject.decode(errors="replace"), sid))

    def accept(
        self,
        route: _Route,
        subject: bytes,
        reply: bytes,
        data: bytes,
        headers: dict[str, str] | None,
    ) -> bool:
        """Queue one message of a routed subscription; False (dropped) over its pending limits."""
        size = len(data)
        stats = self._stats
        stats["in_msgs"] += 1
        stats["in_bytes"] += size
        queue = route.queue
        if len(queue) >= route.max_msgs or route.size + size > route.max_bytes:
            return False
        queue.append((subject, reply, data, headers))
        route.size += size
        if not route.run_scheduled:
            route.run_scheduled = True
            asyncio.get_running_loop().call_soon(self._run, route)
        return True

    def _run(self, route: _Route) -> None:
        """Hand every waiting message of `route` to its handler, in order."""
        route.run_scheduled = False
        queue, handler = route.queue, route.handler
        pop = queue.popleft
        while queue:
            subject, reply, data, headers = pop()
            route.size -= len(data)
            try:
                handler(
                    subject.decode(errors="replace"), reply.decode(errors="replace"), data, headers
                )
            except Exception as exc:  # a handler bug must not stop delivery or the read loop
                self.handler_errors += 1
                if is_power_of_two(self.handler_errors):
                    self._log.error(
                        "Message handler failed",
                        subject=subject.decode(errors="replace"),
                        error=str(exc),
                        error_type=type(exc).__name__,
                        total=self.handler_errors,
                        note="the message is skipped; logged at 1, 2, 4, 8... failures",
                    )
