"""The request id: the client's ``X-Request-ID`` if it is sane, else a new one.

The request and its id are bound to the thread (:mod:`plinth.requestcontext`)
from here until the request's last finished callback, so every log line of
the request carries it; it goes back to the client in ``X-Request-ID``.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from pyramid.request import Request
from pyramid.response import Response

from .. import requestcontext

REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def request_id_for(request: Request) -> str:
    """The request's id, chosen once per request."""
    # Kept in the environ so that pyramid_retry's fresh request keeps the id.
    environ = request.environ
    request_id = environ.get("plinth.request_id")
    if request_id is None:
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if REQUEST_ID.match(incoming) else uuid.uuid4().hex
        environ["plinth.request_id"] = request_id
    return request_id


def unbind(request: Request) -> None:
    requestcontext.unbind()


def request_id_tween_factory(handler: Any, registry: Any) -> Any:
    """Tween: the request id, bound for the logs and sent back in ``X-Request-ID``."""

    def request_id_tween(request: Request) -> Response:
        request_id = request.request_id = request_id_for(request)
        requestcontext.bind(request, request_id)
        try:
            response = handler(request)
        finally:
            # Finished callbacks (recording a token's use, say) still serve
            # the request; Pyramid runs them in the order they were added,
            # so one added now runs last.
            request.add_finished_callback(unbind)
        response.headerlist.append(("X-Request-ID", request_id))
        return response

    return request_id_tween
