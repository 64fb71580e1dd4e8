"""The gateway's route table and how a request path finds its route (pure).

A route's template is a path whose `{name}` segments are parameters (one whole segment each:
subjects hold dots, never slashes). Literal segments match case-insensitively, as the upstream's
routes do; a literal beats a parameter (`/api/consumers/templates` before `/api/consumers/{s}`).
The same table documents the API: `openapi.py` builds the OpenAPI document from it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

__all__ = ["Match", "QueryParam", "Route", "Router"]


class QueryParam(NamedTuple):
    """A documented query parameter."""

    name: str
    kind: str  # an OpenAPI type: integer, string, boolean
    description: str
    default: Any = None


class Route(NamedTuple):
    """One route: method (GET, POST, DELETE or WS), path template, handler and its docs."""

    method: str
    template: str
    handler: Callable[..., Any]
    summary: str
    tag: str
    query: tuple[QueryParam, ...] = ()
    body: Any = None  # a msgspec Struct type, a content type string, or None
    responses: tuple[tuple[int, Any], ...] = ()  # (status, Struct type or description)
    public: bool = False  # True: answered without the bearer token (health)
    hidden: bool = False  # left out of the OpenAPI document


class Match(NamedTuple):
    """What a path found: its route and parameters, or the status of a miss (404, 405)."""

    route: Route | None
    params: dict[str, str]
    status: int = 200
    allow: tuple[str, ...] = ()


class _Compiled(NamedTuple):
    route: Route
    parts: tuple[tuple[bool, str], ...]  # (is parameter, name or lower-cased literal)
    literals: int


def _split(path: str) -> list[str]:
    return path.strip("/").split("/")


def _bind(parts: tuple[tuple[bool, str], ...], segments: list[str]) -> dict[str, str] | None:
    """The parameters when `segments` fit `parts`, else None."""
    params: dict[str, str] = {}
    for (is_param, name), segment in zip(parts, segments, strict=True):
        if is_param:
            if not segment:
                return None
            params[name] = segment
        elif segment.lower() != name:
            return None
    return params


class Router:
    """Routes by segment count, literal-first; `match` is a handful of string comparisons."""

    def __init__(self, routes: Iterable[Route]) -> None:
        self.routes = tuple(routes)
        by_length: dict[int, list[_Compiled]] = {}
        for route in self.routes:
            parts = tuple(
                (True, seg[1:-1]) if seg.startswith("{") else (False, seg.lower())
                for seg in _split(route.template)
            )
            literals = sum(1 for is_param, _ in parts if not is_param)
            by_length.setdefault(len(parts), []).append(_Compiled(route, parts, literals))
        for compiled in by_length.values():
            compiled.sort(key=lambda c: -c.literals)  # stable: table order among equals
        self._by_length = by_length

    def match(self, method: str, path: str) -> Match:
        """The route for `method` on `path`; a miss says 404, or 405 with the methods allowed."""
        segments = _split(path)
        allowed: list[str] = []
        for compiled in self._by_length.get(len(segments), ()):
            params = _bind(compiled.parts, segments)
            if params is None:
                continue
            if compiled.route.method == method:
                return Match(compiled.route, params)
            allowed.append(compiled.route.method)
        if allowed:
            return Match(None, {}, 405, tuple(dict.fromkeys(allowed)))
        return Match(None, {}, 404)
