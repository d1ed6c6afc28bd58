"""A URL the application cannot read is a JSON 400 before anything reads it.

Undecodable bytes and NUL characters (which PostgreSQL refuses in text)
would otherwise surface deep inside a view as a 500.
"""

from __future__ import annotations

from typing import Any

from pyramid.request import Request
from pyramid.response import Response

from ..errors import json_error_response


def malformed_url(request: Request) -> tuple[str, str, dict[str, Any]] | None:
    """Why the URL cannot be used, or None."""
    try:
        path = request.path_info
        query = request.GET
    except UnicodeDecodeError:
        return "invalid_url", "the URL is not valid UTF-8", {}
    if "\x00" in path:
        return "invalid_url", "NUL characters are not allowed in URLs", {}
    for name, value in query.items():
        if "\x00" in name or "\x00" in value:
            return (
                "invalid_request",
                f"query parameter {name!r} contains a NUL character",
                {
                    "errors": [
                        {
                            "location": "query",
                            "field": name,
                            "message": "NUL characters are not allowed",
                        }
                    ]
                },
            )
    return None


def malformed_url_tween_factory(handler: Any, registry: Any) -> Any:
    """Tween: the JSON 400 for a URL that cannot be decoded or holds NUL."""

    def malformed_url_tween(request: Request) -> Response:
        problem = malformed_url(request)
        if problem is not None:
            return json_error_response(request, 400, *problem)
        return handler(request)

    return malformed_url_tween
