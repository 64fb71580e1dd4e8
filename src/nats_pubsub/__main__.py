"""`python -m nats_pubsub` runs the CLI."""

from nats_pubsub.cli.commands import main

main()
