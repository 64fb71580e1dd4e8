"""The long-running services: thin loops over the shared core."""
