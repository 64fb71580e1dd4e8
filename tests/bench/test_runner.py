"""The benchmark runner: what its worker processes inherit."""

from __future__ import annotations

from nats_pubsub.bench.runner import worker_env


def test_workers_keep_the_process_switches_and_drop_settings() -> None:
    """A worker gets NATS_PUBSUB_FAST_PATH (and NO_EXEC), never a NATS_URL or a stream name."""
    env = worker_env(
        {
            "NATS_PUBSUB_FAST_PATH": "0",
            "NATS_PUBSUB_NO_EXEC": "1",
            "NATS_URL": "nats://elsewhere:4222",
            "STREAM_NAME": "X",
            "PATH": "/bin",
        }
    )
    assert env == {"NATS_PUBSUB_FAST_PATH": "0", "NATS_PUBSUB_NO_EXEC": "1", "PATH": "/bin"}
