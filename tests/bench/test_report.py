"""The bench summary as text: what a person reads after `nats-pubsub bench`."""

from __future__ import annotations

from nats_pubsub.bench.report import Summary, render


def _summary(command: str, service: str) -> Summary:
    return Summary(
        command=command,
        mode="ours",
        service=service,
        clients=1,
        msgs=1000,
        size=230,
        sent=1000,
        received=1000,
        seconds=0.5,
        rate=2000.0,
    )


def test_text_names_the_service_only_where_there_is_one() -> None:
    """`pub (ours): ...`, not `pub (ours, -)`; `sub (ours, monitor): ...` keeps it."""
    assert render(_summary("pub", "-"), "text").splitlines()[0] == "pub (ours): 2,000 msg/s"
    first = render(_summary("sub", "monitor"), "text").splitlines()[0]
    assert first == "sub (ours, monitor): 2,000 msg/s"
