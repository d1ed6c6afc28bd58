"""Console-wide pages: the audit log and the plugins with their readiness.

Both answer from the same functions as ``GET /@@audit`` and ``GET /`` with
``/ready``, so that filters, paging and checks behave as on the API.
"""

from __future__ import annotations

from typing import Any

from pyramid.httpexceptions import HTTPMovedPermanently
from pyramid.request import Request
from pyramid.response import Response

from plinth.api import APIError, audit_view, home, ready

from .common import admin_path, render

AUDIT_FILTERS = ("actor", "kind", "resource", "since", "until")


def to_console(request: Request) -> Response:
    """``/admin`` without its slash: on to ``/admin/``, with the same query."""
    query = request.query_string
    return HTTPMovedPermanently(location=admin_path(request) + ("?" + query if query else ""))


def audit_page(context: Any, request: Request) -> Response:
    result = audit_view(context, request)
    filters = {name: request.GET.get(name, "") for name in AUDIT_FILTERS}
    next_url = (
        admin_path(request, view="audit", cursor=result["next_cursor"], **filters)
        if result["next_cursor"]
        else None
    )
    return render(
        request,
        "audit.jinja2",
        {"title": "Audit log", "entries": result["items"], "filters": filters, "next": next_url},
    )


def plugins_page(context: Any, request: Request) -> Response:
    info = home(context, request)
    try:
        readiness = ready(request)
    except APIError as exc:
        readiness = {"status": "not ready", "checks": exc.details.get("checks", {})}
    return render(
        request, "plugins.jinja2", {"title": "Plugins", "info": info, "readiness": readiness}
    )
