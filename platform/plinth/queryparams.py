"""Query parameters: converting them, and the one shape of their 400.

Every bad query parameter is answered alike: a 400 whose ``details.errors``
holds ``{"location": "query", "field": name, "message": problem}``, the
shape a bad body field has, so that a client reads both the same way.
"""

from __future__ import annotations

from typing import Any

from pyramid.request import Request

from .errors import APIError, api_error


def query_problem(name: str, problem: str) -> dict[str, Any]:
    """One entry of ``details.errors`` about query parameter ``name``."""
    return {"location": "query", "field": name, "message": problem}


def query_error(name: str, problem: str, message: str | None = None,
                code: str = "invalid_request") -> APIError:
    """The 400 for query parameter ``name``: raise it.

    ``problem`` is the short reason in ``details`` ("required", "not an
    integer"); ``message`` the sentence for people (default: "query
    parameter 'name': problem").
    """
    return api_error(400, code, message or f"query parameter {name!r}: {problem}",
                     {"errors": [query_problem(name, problem)]})


def query_int(request: Request, name: str, default: int | None = None,
              minimum: int | None = None, maximum: int | None = None) -> int | None:
    """An integer parameter within [minimum, maximum] (absent or empty: ``default``)."""
    raw = request.GET.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise query_error(name, "not an integer",
                          f"query parameter {name!r} must be an integer") from None
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise query_error(name, "out of range",
                          f"query parameter {name!r} must be between {minimum} and {maximum}")
    return value


def query_bool(request: Request, name: str, default: bool = False) -> bool:
    """``true`` or ``false`` (absent: ``default``); anything else is a 400."""
    raw = request.GET.get(name)
    if raw is None or raw == "":
        return default
    if raw in ("true", "false"):
        return raw == "true"
    raise query_error(name, "not true or false",
                      f"query parameter {name!r} must be true or false")
