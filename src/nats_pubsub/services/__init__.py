"""The services layer: one thin loop per command (publish, subscribe, payments, monitor,
replay, streams, server, up) and the pieces they share (`outbox`, `inbox`, `replay_output`).

A service connects through the connection layer, wires the domain's decisions to it and to the
logger, and exposes its counters to the observability layer. May import every layer below the
CLI (connection, observability, server, logs, config, domain, errors) and `lifecycle` and
`launch`; only the CLI, the benchmarks and a future gateway import it.
"""

__all__: list[str] = []
