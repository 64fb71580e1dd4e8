"""`nats-pubsub chaos`: a soak of faults on a 3-node cluster and the services, then checks.

`schedule` (the faults from a seed), `workload` (the services), `facts`, `checks`, `timing`
and `report` are pure; `nodes`, `fleet`, `inject`, `collect`, `netns` and `runner` do the I/O.
It sits above the services, beside `bench`: it may import every layer below (services, server,
lifecycle, logs, config, domain), but never `nats` (the streams are read with `nats-pubsub
replay`, the services run as processes) nor the test harness.
"""

__all__: list[str] = []
