"""Error pages of the console: HTML, with the same leak rules as the API.

Signed out, every page answers with the sign-in form (200 at ``/admin/``, 401
elsewhere), whether or not the page exists.  Signed in, a viewer who may not
view the deepest resource found gets 403 for a missing child, as on the API.
"""

from __future__ import annotations

from pyramid.httpexceptions import HTTPException
from pyramid.request import Request
from pyramid.response import Response

from plinth.api import APIError, view_permission_for

from .common import admin_path, render
from .signin import sign_in_form


def _signed_out(request: Request) -> Response:
    expired = request.environ.get("plinth_admin.expired")
    status = 200 if request.path_info in ("/admin", "/admin/") else 401
    return sign_in_form(
        request, status, "Your session has ended: sign in again." if expired else None
    )


def error_page(request: Request, status: int, title: str, message: str) -> Response:
    return render(
        request,
        "error.jinja2",
        {"title": title, "message": message, "home": admin_path(request)},
        status,
    )


def forbidden(context: HTTPException, request: Request) -> Response:
    if request.identity is None and context.detail != "csrf":
        return _signed_out(request)
    if context.detail == "csrf":
        return error_page(
            request,
            403,
            "Form expired",
            "This form was not sent from this console (its security token "
            "is missing or wrong). Reload the page and try again.",
        )
    return error_page(request, 403, "Not allowed", "You are not allowed to see this here.")


def not_found(context: HTTPException, request: Request) -> Response:
    if request.identity is None:
        return _signed_out(request)
    resource = getattr(request, "context", None)
    permission = view_permission_for(resource) if resource is not None else None
    if permission is not None and not request.has_permission(permission, resource):
        return error_page(request, 403, "Not allowed", "You are not allowed to see this here.")
    if context.code == 405 or request.method not in ("GET", "HEAD"):
        return error_page(request, 405, "Not here", "This page does not take that request.")
    return error_page(request, 404, "Not found", "There is nothing at this address.")


def http_error(context: HTTPException, request: Request) -> Response:
    if context.code < 400:
        return context  # redirects
    message = context.message if isinstance(context, APIError) else context.title
    return error_page(request, context.code, context.title, str(message))
