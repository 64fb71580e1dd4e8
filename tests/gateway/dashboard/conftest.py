"""Fixtures for the dashboard's tests: Server-Sent Event streams read on their own threads."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from tests.helpers.sse import SseReader


@pytest.fixture
def sse() -> Iterator[Callable[..., SseReader]]:
    """Open event streams (`sse(url, params)`); all closed at the end."""
    readers: list[SseReader] = []

    def open_stream(url: str, params: dict[str, str] | None = None) -> SseReader:
        reader = SseReader(url, params)
        readers.append(reader)
        return reader

    yield open_stream
    for reader in readers:
        reader.close()
