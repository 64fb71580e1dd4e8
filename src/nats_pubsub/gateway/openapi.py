"""The OpenAPI document, generated from the route table and the msgspec models (pure), and the
interactive docs page at `/docs` (Swagger UI from the `swagger-ui-bundle` package: no CDN)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final

import msgspec

from nats_pubsub.gateway.models import ErrorBody
from nats_pubsub.gateway.routing import Route

__all__ = ["DOCS_PAGE", "docs_asset", "openapi_document"]

_REF: Final = "#/components/schemas/{name}"
_ASSETS: Final = frozenset({"swagger-ui.css", "swagger-ui-bundle.js", "favicon-32x32.png"})
_TYPES: Final = {".css": b"text/css", ".js": b"text/javascript", ".png": b"image/png"}

DOCS_PAGE: Final = b"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>NATS HTTP Gateway - API</title>
<link rel="icon" href="/docs/favicon-32x32.png">
<link rel="stylesheet" href="/docs/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script>
const token = new URLSearchParams(window.location.search).get("access_token");
window.ui = SwaggerUIBundle({
  url: "/openapi.json" + (token ? "?access_token=" + encodeURIComponent(token) : ""),
  dom_id: "#swagger-ui",
  deepLinking: true,
});
</script>
</body>
</html>
"""


def docs_asset(name: str) -> tuple[bytes, bytes] | None:
    """(content type, bytes) of one Swagger UI file served under /docs/, or None."""
    if name not in _ASSETS:
        return None
    try:
        from swagger_ui_bundle import swagger_ui_path
    except ImportError:
        return None
    path = Path(str(swagger_ui_path)) / name
    return _TYPES[path.suffix], path.read_bytes()


def _parameters(route: Route) -> list[dict[str, Any]]:
    params: list[dict[str, Any]] = [
        {"name": seg[1:-1], "in": "path", "required": True, "schema": {"type": "string"}}
        for seg in route.template.split("/")
        if seg.startswith("{")
    ]
    for q in route.query:
        schema: dict[str, Any] = {"type": q.kind}
        if q.default is not None:
            schema["default"] = q.default
        params.append(
            {"name": q.name, "in": "query", "description": q.description, "schema": schema}
        )
    return params


def _content(kind: Any, types: set[Any]) -> dict[str, Any]:
    if isinstance(kind, str):
        return {kind: {"schema": {"type": "string", "format": "binary"}}}
    types.add(kind)
    return {"application/json": {"schema": {"$ref": _REF.format(name=kind.__name__)}}}


def _operation(route: Route, types: set[Any]) -> dict[str, Any]:
    op: dict[str, Any] = {
        "summary": route.summary,
        "tags": [route.tag],
        "operationId": f"{route.method.lower()}_{route.handler.__name__}",
        "parameters": _parameters(route),
        "responses": {},
    }
    if route.method == "WS":
        op["description"] = "A WebSocket: connect with ws:// (or wss://) to this path."
    if route.handler.__doc__:
        op["description"] = " ".join(route.handler.__doc__.split())
    if route.body is not None:
        op["requestBody"] = {"required": False, "content": _content(route.body, types)}
    for status, kind in route.responses:
        if isinstance(kind, str) and "/" not in kind:
            op["responses"][str(status)] = {"description": kind}
        else:
            op["responses"][str(status)] = {"description": "OK", "content": _content(kind, types)}
    op["responses"].setdefault("400", {"description": "Bad request"})
    op["responses"]["400"]["content"] = _content(ErrorBody, types)
    if not route.public:
        op["security"] = [{"bearer": []}]
    return op


def openapi_document(routes: tuple[Route, ...], version: str) -> dict[str, Any]:
    """The OpenAPI 3.1 document for `routes` (WebSocket routes listed as GET)."""
    paths: dict[str, dict[str, Any]] = {}
    types: set[Any] = set()
    for route in routes:
        if route.hidden:
            continue
        method = "get" if route.method == "WS" else route.method.lower()
        paths.setdefault(route.template, {})[method] = _operation(route, types)
    _, components = msgspec.json.schema_components(
        sorted(types, key=lambda t: t.__name__), ref_template=_REF
    )
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "NATS HTTP Gateway",
            "version": version,
            "description": "NATS JetStream over HTTP, WebSocket and Server-Sent Events.",
        },
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }
