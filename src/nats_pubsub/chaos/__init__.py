"""`nats-pubsub chaos`: a soak of faults on a 3-node cluster and the services, then checks.

`schedule` (the faults from a seed), `workload` (the services), `facts`, `checks`, `timing`
and `report` are pure; `nodes`, `fleet`, `inject`, `collect` and `runner` do the I/O.
"""

__all__: list[str] = []
