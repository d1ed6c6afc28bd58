"""JSON errors for every 4xx and 5xx.

Every error body is ``{"status", "error", "message", "details"}``.  Views raise
:func:`api_error` (or any ``pyramid.httpexceptions`` exception); the exception
views below turn everything, including traversal's 404 and 403 and a last-resort
500, into that shape.  A 500 carries the request id and never a traceback.
"""

from __future__ import annotations

import logging
from typing import Any

from pyramid import httpexceptions as exc
from pyramid.exceptions import PredicateMismatch
from pyramid.request import Request
from pyramid.response import Response
from pyramid_retry import is_error_retryable, is_last_attempt, mark_error_retryable

from .methods import allowed_methods

log = logging.getLogger(__name__)

ERROR_CODES = {
    400: "invalid_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    412: "precondition_failed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "idempotency_key_reused",
    428: "precondition_required",
    429: "rate_limited",
    500: "internal_error",
    503: "unavailable",
}


class APIError(exc.HTTPError):
    """An HTTP error with a machine-readable code and details."""

    def __init__(
        self,
        status: int,
        error: str | None = None,
        message: str | None = None,
        details: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        cls = exc.status_map.get(status, exc.HTTPBadRequest)
        super().__init__(detail=message, headers=headers)
        self.code = status
        self.title = cls.title
        self.status = f"{status} {cls.title}"
        self.error = error or ERROR_CODES.get(status, "error")
        self.message = message or cls.title
        self.details = details or {}


def api_error(
    status: int,
    error: str | None = None,
    message: str | None = None,
    details: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> APIError:
    return APIError(status, error, message, details, headers)


def error_body(
    status: int, error: str, message: str, details: dict[str, Any] | None = None
) -> dict[str, Any]:
    return {"status": status, "error": error, "message": message, "details": details or {}}


def json_error_response(
    request: Request,
    status: int,
    error: str,
    message: str,
    details: dict[str, Any] | None = None,
    headers: Any = None,
) -> Response:
    response = Response(status=status, json_body=error_body(status, error, message, details))
    if headers:
        for name, value in headers:
            if name.lower() in {"content-type", "content-length"}:
                continue
            response.headers[name] = value
    return response


def http_exception_view(context: exc.HTTPException, request: Request) -> Response:
    """Turn any Pyramid HTTP exception into the JSON error shape."""
    status = context.code
    if status < 400:
        # Redirects and the like are not errors: hand them back unchanged.
        return context
    if isinstance(context, APIError):
        error, message, details = context.error, context.message, context.details
    else:
        error = ERROR_CODES.get(status, "error")
        detail = context.detail
        message = detail if isinstance(detail, str) and detail else context.title
        details = {}
    if status == 405:
        message = f"method {request.method} is not allowed here"
    response = json_error_response(
        request, status, error, message, details, headers=context.headerlist
    )
    if status == 405 and "Allow" not in response.headers:
        set_allow(request, response)
    return response


def set_allow(request: Request, response: Response) -> None:
    """A 405 names the methods the resource supports (RFC 9110, section 15.5.6)."""
    methods = allowed_methods(request)
    if methods:
        response.headers["Allow"] = ", ".join(methods)


def not_found_view(context: exc.HTTPException, request: Request) -> Response:
    """404, unless that would leak whether something exists.

    A caller without credentials gets 401 whether or not the resource exists; a
    caller who may not view the deepest resource traversal found gets 403.
    """
    from .security import view_permission_for  # here to avoid an import cycle

    resource = getattr(request, "context", None)
    if resource is not None and getattr(request, "matched_route", None) is None:
        if request.identity is None:
            return unauthorized_response(request)
        permission = view_permission_for(resource)
        if permission is not None and not request.has_permission(permission, resource):
            # The body forbidden_view gives for an existing child: no hint.
            return forbidden_response(request, {"permission": permission})
    if isinstance(context, APIError):
        return http_exception_view(context, request)
    if isinstance(context, PredicateMismatch) and request.method not in ("GET", "HEAD"):
        # Something is there, but no view takes this method.
        response = json_error_response(
            request,
            405,
            "method_not_allowed",
            f"method {request.method} is not allowed at {request.path_info}",
        )
        set_allow(request, response)
        return response
    return json_error_response(request, 404, "not_found", f"nothing at {request.path_info}")


def unauthorized_response(request: Request) -> Response:
    """The 401, challenging with the scheme of the enabled identity provider."""
    from .security import identity_provider

    scheme = getattr(identity_provider(request.registry), "scheme", None)
    if scheme is None:
        return json_error_response(
            request,
            401,
            "unauthorized",
            "authentication required, and no plugin that authenticates is enabled",
        )
    response = json_error_response(
        request,
        401,
        "unauthorized",
        f"authentication required: send a valid 'Authorization: {scheme} <credentials>' header",
    )
    response.headers["WWW-Authenticate"] = f'{scheme} realm="plinth"'
    return response


def forbidden_response(request: Request, details: dict[str, Any] | None = None) -> Response:
    return json_error_response(
        request, 403, "forbidden", "you are not allowed to do this here", details
    )


def forbidden_view(context: exc.HTTPForbidden, request: Request) -> Response:
    if request.identity is None:
        return unauthorized_response(request)
    permission = getattr(getattr(context, "result", None), "permission", None)
    return forbidden_response(request, {"permission": permission} if permission else None)


def will_retry(request: Request, error: BaseException) -> bool:
    """Whether pyramid_retry serves the request again after ``error``.

    Then the response rendered for ``error`` is discarded: it is neither an
    error to log nor a 500 to count.  A database's transient error (deadlock,
    serialization failure) is marked retryable here, while its transaction
    can still tell: pyramid_tm would mark it only after its commit veto, which
    aborts a 500 first, so such errors were answered 500 instead of retried.
    """
    if isinstance(error, exc.HTTPException) or is_last_attempt(request):
        return False
    if is_error_retryable(request, error):
        return True
    try:
        transient = bool(request.tm.get().isRetryableError(error))
    except Exception:  # noqa: BLE001 - no transaction (any more): not retried
        return False
    if transient and isinstance(error, Exception):
        mark_error_retryable(error)
    return transient


def last_resort_view(context: Exception, request: Request) -> Response:
    request_id = getattr(request, "request_id", None)
    if will_retry(request, context):
        # Not an error yet: pyramid_retry serves the request again and the
        # client sees that attempt's response.
        log.info("retrying request %s after %s", request_id, type(context).__name__)
    else:
        # An exception view runs after the except block: the traceback is
        # the context's, passed explicitly.
        log.error("unhandled error in request %s", request_id, exc_info=context)
    return json_error_response(
        request,
        500,
        "internal_error",
        "an unexpected error occurred; quote the request id when reporting it",
        {"request_id": request_id},
    )


def includeme(config: Any) -> None:
    config.add_exception_view(not_found_view, context=exc.HTTPNotFound)
    config.add_exception_view(forbidden_view, context=exc.HTTPForbidden)
    config.add_exception_view(http_exception_view, context=exc.HTTPException)
    config.add_exception_view(last_resort_view, context=Exception)
