"""What every admin page shares: URLs, rendering, response headers."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from pyramid.httpexceptions import HTTPBadRequest
from pyramid.renderers import render_to_response
from pyramid.request import Request
from pyramid.response import Response
from pyramid.traversal import resource_path

from .. import csrf, session

ROUTE = "plinth.admin"
STATIC = "admin/@@static"
# No inline script or style anywhere: htmx's indicator styles are off (see base).
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)


def admin_path(
    request: Request, resource: Any = None, view: str | None = None, **query: Any
) -> str:
    """The console's URL of ``resource`` (the root by default), or of its view."""
    path = resource_path(resource) if resource is not None else "/"
    url = request.script_name + "/admin" + (path if path != "/" else "/")
    if view:
        url = url.rstrip("/") + "/@@" + view
    query = {k: v for k, v in query.items() if v not in (None, "")}
    return url + ("?" + urlencode(query) if query else "")


def static_path(request: Request, name: str) -> str:
    return f"{request.script_name}/{STATIC}/{name}"


def render(request: Request, template: str, values: dict[str, Any], status: int = 200) -> Response:
    response = render_to_response(template, values, request=request)
    response.status_int = status
    return response


def finish(request: Request, response: Response) -> None:
    """Response callback of every admin request: cookies and headers."""
    session.apply_cookie(request, response)
    if response.content_type == "text/html":
        csrf.set_csrf_cookie(request, response)
        response.headers["Content-Security-Policy"] = CSP


def console_root(request: Request) -> Any:
    """The route's root factory: the real tree, as the session cookie's user."""
    request.add_response_callback(finish)
    if request.method == "POST":
        try:
            request.POST  # noqa: B018 - parsed here, so that a broken form is a 400
        except ValueError:
            raise HTTPBadRequest(detail="The form could not be read.") from None
    return session.admin_root(request)


def add_request_methods(config: Any) -> None:
    config.add_request_method(csrf.csrf_token, "admin_csrf", reify=True)
    config.add_request_method(admin_path, "admin_path")
    config.add_request_method(static_path, "admin_static")
