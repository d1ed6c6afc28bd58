"""Every admin form is a POST that carries the CSRF token, and shows its
errors in words."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from pyramid.traversal import find_resource, find_root, resource_path

from plinth.api import APIError

from ..csrf import check_csrf


def form_post(view: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    """Refuse (403) a POST whose CSRF token is missing or wrong, before ``view``."""

    @functools.wraps(view)
    def checked(context: Any, request: Any) -> Any:
        check_csrf(request)
        return view(context, request)

    checked.admin_csrf = True  # type: ignore[attr-defined]
    return checked


def form_problems(exc: APIError) -> str:
    """An API error as one sentence for the page: its message, then the
    message of each problem it lists."""
    problems = exc.details.get("errors") or []
    return exc.message + "".join(
        f" {p.get('message')}."
        for p in problems
        if isinstance(p, dict) and p.get("message") and p.get("message") != exc.message
    )


def discard_writes(request: Any, context: Any) -> Any:
    """Abort what the request wrote so far, to answer with the form again:
    a refused change writes nothing (and no audit entry).  Returns
    ``context`` found again, as the rows its resources held are gone with
    the aborted session."""
    request.tm.abort()
    request.tm.begin()
    return find_resource(find_root(context), resource_path(context))
