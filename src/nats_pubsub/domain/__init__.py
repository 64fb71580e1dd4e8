"""The domain layer, pure: messages, events, payments, timestamps, subjects, stream rules, the
decisions made about them and the bytes they become on the wire.

No I/O: nothing here opens a socket, a file or a process, or starts a task or a thread; the clock
and random numbers are its only inputs from outside. May import only `nats_pubsub.errors` and
pure libraries (msgspec); every other layer may import it. `make lint` checks this.
"""

__all__: list[str] = []
