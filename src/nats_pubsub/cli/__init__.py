"""The CLI layer: the `nats-pubsub` click group, its option groups and its subcommands.

Parses flags, builds and validates each command's settings once (`config`), builds the logger
and calls the service (long-running ones through `nats_pubsub.launch`). The top layer: it may
import every other layer; nothing imports it. Kept out of this `__init__` so that importing a
module below `nats_pubsub.cli` never loads click.
"""

__all__: list[str] = []
