"""Conditional writes: ``If-Match`` against the resource's current ETag."""

from __future__ import annotations

from pyramid.request import Request

from .errors import api_error

IF_MATCH = {"name": "If-Match", "in": "header", "required": False, "schema": {"type": "string"}}
"""The ``If-Match`` header as an OpenAPI parameter, for endpoints that honour it."""


def check_if_match(request: Request, current_etag: str | None) -> None:
    """412 when ``If-Match`` names another version than the current one.

    ``current_etag`` is None when the resource does not exist: then only a
    missing ``If-Match`` lets the write through (``*`` means "if it exists").
    Comparison is strong (RFC 9110): a weak tag never matches.
    """
    if_match = request.headers.get("If-Match")
    if not if_match:
        return
    if if_match.strip() == "*":
        matched = current_etag is not None
    else:
        tags = [tag.strip() for tag in if_match.split(",")]
        # Unquoted tags are a common client slip; accept them, but never W/.
        matched = current_etag is not None and (f'"{current_etag}"' in tags or current_etag in tags)
    if not matched:
        raise api_error(
            412,
            "precondition_failed",
            "the resource changed since you read it: fetch it again and retry",
            {"etag": current_etag},
        )
