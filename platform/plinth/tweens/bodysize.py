"""A declared body over ``plinth.max_body_size`` gets the JSON 413, unread.

Waitress reads a chunked body before the application runs and gives it a
``Content-Length``, so a chunked body is refused here too; Waitress's own
``max_request_body_size`` is only a backstop above this limit.
"""

from __future__ import annotations

from typing import Any

from pyramid.request import Request
from pyramid.response import Response

from ..errors import json_error_response


def body_size_tween_factory(handler: Any, registry: Any) -> Any:
    """Tween: the JSON 413 for a body over ``plinth.max_body_size``."""
    limit = registry.settings["plinth.max_body_size"]

    def body_size_tween(request: Request) -> Response:
        if request.content_length is not None and request.content_length > limit:
            return json_error_response(
                request,
                413,
                "payload_too_large",
                f"the request body is larger than {limit} bytes",
                {"limit": limit},
            )
        return handler(request)

    return body_size_tween
