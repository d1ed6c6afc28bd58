"""Lists in pages: ``limit``, an opaque ``cursor``, and ``{"items", "next_cursor"}``.

A cursor is the sort key of the last item served, encoded; the server
accepts only cursors of the shape it issues.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from typing import Any

from pyramid.request import Request

from .queryparams import QueryParameter, query_error

DEFAULT_LIMIT = 50
MAX_LIMIT = 500

PAGING = (
    QueryParameter(
        "limit",
        {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
        description=f"items per page, {DEFAULT_LIMIT} when absent",
    ),
    QueryParameter("cursor", {"type": "string"}, description="next_cursor of the previous page"),
)
"""The query parameters of a paginated list: ``query=[*PAGING, ...]``."""


def page_limit(request: Request) -> int:
    """``limit`` of an endpoint declared with :data:`PAGING`: 1 to 500, 50 when absent."""
    return int(request.query["limit"])


def encode_cursor(values: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


def cursor_after(request: Request, kind: type[Any]) -> Any:
    """The sort key a ``cursor`` from :func:`page` points after, or None.

    For an endpoint declared with :data:`PAGING`.  ``kind`` (str or int) is
    the key's type: a cursor this server did not issue, whatever its
    content, is a 400, never a 500 further down.
    """
    raw = request.query["cursor"]
    if not raw:
        return None
    try:
        padded = raw + "=" * (-len(raw) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if not isinstance(values, list) or len(values) != 1 or type(values[0]) is not kind:
            raise ValueError("wrong shape")
        return values[0]
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise query_error(
            "cursor",
            "invalid cursor",
            "the cursor is not one this server issued",
            code="invalid_cursor",
        ) from None


def page(
    rows: list[Any],
    limit: int,
    key: Callable[[Any], Any],
    shape: Callable[[Any], Any] = lambda row: row,
) -> dict[str, Any]:
    """A page of a list fetched with ``limit + 1`` rows: the items (shaped by
    ``shape``) and, if there are more, the cursor to the next page."""
    more = len(rows) > limit
    rows = rows[:limit]
    return {
        "items": [shape(row) for row in rows],
        "next_cursor": encode_cursor([key(rows[-1])]) if more else None,
    }
