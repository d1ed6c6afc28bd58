"""An exception raised below, pyramid_tm's commit included, becomes a JSON error.

Pyramid's own exception view tween sits under pyramid_tm, so an error raised
while committing would otherwise reach the server as a bare 500.  An error
pyramid_retry will retry is left to it.
"""

from __future__ import annotations

from typing import Any

from pyramid.request import Request
from pyramid.response import Response
from pyramid_retry import is_error_retryable


def exception_tween_factory(handler: Any, registry: Any) -> Any:
    """Tween: the exception views' JSON answer for errors raised below."""

    def exception_tween(request: Request) -> Response:
        try:
            return handler(request)
        except Exception as exc:
            if is_error_retryable(request, exc):
                raise
            return request.invoke_exception_view(reraise=True)

    return exception_tween
