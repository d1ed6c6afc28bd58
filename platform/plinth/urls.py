"""The URLs the API hands out (``Location``), never built from the Host header.

``Host`` and ``X-Forwarded-Host`` are whatever the client (or a proxy it
talks through) says; a ``Location`` built from them sends the next request
wherever an attacker chose.  With ``plinth.public_url`` set, locations are
absolute URLs under it; otherwise they are relative references (RFC 9110,
section 10.2.2), which every HTTP client resolves against the URL it called.
"""

from __future__ import annotations

from typing import Any

from pyramid.request import Request
from pyramid.traversal import resource_path


def location(request: Request, path: str) -> str:
    """The ``Location`` of ``path``, a path inside the application ("/stock/A-1")."""
    base = request.registry.settings.get("plinth.public_url") or request.script_name
    return base + path


def resource_location(request: Request, resource: Any, *elements: str) -> str:
    """The ``Location`` of ``resource`` (and ``elements`` below it)."""
    return location(request, resource_path(resource, *elements))
