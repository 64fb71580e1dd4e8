"""Entry point of one benchmark worker process: `python -m nats_pubsub.bench.worker SPEC_JSON`.

Every measurement runs in a fresh process, on the same event loop our services use (uvloop when
installed), so modes are compared on equal terms.
"""

from __future__ import annotations

import asyncio
import sys

from nats_pubsub.bench.protocol import WorkerSpec, emit

__all__ = ["main", "new_loop"]


def new_loop() -> asyncio.AbstractEventLoop:
    """uvloop when installed (as `nats-pubsub` services run), else asyncio's loop."""
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


async def _run(spec: WorkerSpec) -> None:
    if spec.role == "sub":
        from nats_pubsub.bench.subscribers import run_subscriber_worker

        result = await run_subscriber_worker(spec)
    else:
        from nats_pubsub.bench.publishers import run_publisher_worker

        result = await run_publisher_worker(spec)
    emit(result=result)


def main() -> None:
    """Run the worker described on the command line."""
    spec = WorkerSpec.from_json(sys.argv[1])
    with asyncio.Runner(loop_factory=new_loop) as runner:
        runner.run(_run(spec))


if __name__ == "__main__":
    main()
