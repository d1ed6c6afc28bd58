"""CORS for the origins in ``plinth.cors_origins`` only."""

from __future__ import annotations

from typing import Any

from pyramid.request import Request
from pyramid.response import Response


def preflight_response() -> Response:
    """The answer to a CORS preflight from an allowed origin."""
    response = Response(status=204)
    response.headers["Access-Control-Allow-Methods"] = "GET, POST, PUT, DELETE"
    response.headers["Access-Control-Allow-Headers"] = (
        "Authorization, Content-Type, If-Match, Idempotency-Key, X-Request-ID"
    )
    response.headers["Access-Control-Max-Age"] = "600"
    return response


def cors_tween_factory(handler: Any, registry: Any) -> Any:
    """Tween: preflights answered and responses marked for allowed origins."""
    origins = frozenset(registry.settings["plinth.cors_origins"])

    def cors_tween(request: Request) -> Response:
        origin = request.headers.get("Origin")
        if origin is None or origin not in origins:
            return handler(request)
        if request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers:
            response = preflight_response()
        else:
            response = handler(request)
        headers = response.headers
        headers["Access-Control-Allow-Origin"] = origin
        headers["Access-Control-Expose-Headers"] = "ETag, Location, X-Request-ID, Retry-After"
        headers.add("Vary", "Origin")
        return response

    return cors_tween
