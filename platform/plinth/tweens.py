"""The outermost tween: request id, body limit, CORS, security headers, metrics.

It sits above pyramid_tm so that an error raised while committing still gets
the JSON error shape (unless pyramid_retry is about to retry it).
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from typing import Any

from prometheus_client import Counter, Histogram
from pyramid.request import Request
from pyramid.response import Response
from pyramid_retry import is_error_retryable

from .errors import json_error_response, will_retry
from .security import resolved_userid

access_log = logging.getLogger("plinth.access")

REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")

REQUESTS = Counter("plinth_http_requests", "HTTP requests served", ["method", "status"])
LATENCY = Histogram("plinth_http_request_seconds", "time to produce a response", ["method"])

API_CSP = "default-src 'none'; frame-ancestors 'none'"
SECURITY_HEADERS = (
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "no-referrer"),
    ("Cross-Origin-Resource-Policy", "same-origin"),
    ("Content-Security-Policy", API_CSP),
    ("Cache-Control", "no-store"),
)
DOCS_CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
            "frame-ancestors 'none'")


def request_id_for(request: Request) -> str:
    # Kept in the environ so that pyramid_retry's fresh request keeps the id.
    environ = request.environ
    request_id = environ.get("plinth.request_id")
    if request_id is None:
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if REQUEST_ID.match(incoming) else uuid.uuid4().hex
        environ["plinth.request_id"] = request_id
    return request_id


def malformed_url(request: Request) -> tuple[str, str, dict[str, Any]] | None:
    """Why the URL cannot be used, or None: such requests stop here with a 400.

    Undecodable bytes and NUL characters (which PostgreSQL refuses in text)
    would otherwise surface deep inside a view as a 500.
    """
    try:
        path = request.path_info
        query = request.GET
    except UnicodeDecodeError:
        return "invalid_url", "the URL is not valid UTF-8", {}
    if "\x00" in path:
        return "invalid_url", "NUL characters are not allowed in URLs", {}
    for name, value in query.items():
        if "\x00" in name or "\x00" in value:
            return "invalid_request", f"query parameter {name!r} contains a NUL character", {
                "errors": [{"location": "query", "field": name,
                            "message": "NUL characters are not allowed"}]}
    return None


def send_location_as_is(response: Response) -> None:
    """Send ``Location`` as the application set it.

    WebOb, when it sends a response, turns a relative ``Location`` into an
    absolute URL built from the request's ``Host`` header: the very echo that
    :mod:`plinth.urls` avoids by handing out relative references.
    """
    response._abs_headerlist = lambda environ: response.headerlist  # type: ignore[method-assign]


def logged_path(request: Request) -> str:
    """The path for the log, also when it is not valid UTF-8 (a 400 is logged too)."""
    try:
        return request.path_info
    except UnicodeDecodeError:
        raw = request.environ.get("PATH_INFO", "").encode("latin-1")
        return raw.decode("utf-8", "backslashreplace")


def plinth_tween_factory(handler: Any, registry: Any) -> Any:
    settings = registry.settings
    max_body = settings["plinth.max_body_size"]
    cors_origins = frozenset(settings["plinth.cors_origins"])

    def plinth_tween(request: Request) -> Response:
        started = time.perf_counter()
        request.request_id = request_id_for(request)
        origin = request.headers.get("Origin")
        cors = origin is not None and origin in cors_origins
        problem = malformed_url(request)
        if problem is not None:
            response = json_error_response(request, 400, *problem)
        elif request.content_length is not None and request.content_length > max_body:
            response = json_error_response(
                request, 413, "payload_too_large",
                f"the request body is larger than {max_body} bytes",
                {"limit": max_body})
        elif cors and request.method == "OPTIONS" and \
                "Access-Control-Request-Method" in request.headers:
            response = Response(status=204)
            response.headers["Access-Control-Allow-Methods"] = "GET, POST, PUT, DELETE"
            response.headers["Access-Control-Allow-Headers"] = \
                "Authorization, Content-Type, If-Match, Idempotency-Key, X-Request-ID"
            response.headers["Access-Control-Max-Age"] = "600"
        else:
            try:
                response = handler(request)
            except Exception as exc:
                if is_error_retryable(request, exc):
                    raise
                response = request.invoke_exception_view(reraise=True)
        # One pass over the header list instead of a case-insensitive scan
        # per header: this runs on every response.
        headerlist = response.headerlist
        present = {name.lower() for name, _ in headerlist}
        headerlist.extend(h for h in SECURITY_HEADERS if h[0].lower() not in present)
        headerlist.append(("X-Request-ID", request.request_id))
        if "location" in present:
            send_location_as_is(response)
        if request.scheme == "https" and "strict-transport-security" not in present:
            headerlist.append(("Strict-Transport-Security", "max-age=31536000"))
        if cors:
            headers = response.headers
            headers["Access-Control-Allow-Origin"] = origin
            headers["Access-Control-Expose-Headers"] = "ETag, Location, X-Request-ID, Retry-After"
            headers.add("Vary", "Origin")
        failure = getattr(request, "exception", None)
        if failure is not None and will_retry(request, failure):
            # pyramid_retry discards this response and serves the request
            # again: the attempt that answers is the one counted and logged.
            return response
        elapsed = time.perf_counter() - started
        REQUESTS.labels(request.method, str(response.status_int)).inc()
        LATENCY.labels(request.method).observe(elapsed)
        if access_log.isEnabledFor(logging.INFO):
            access_log.info("request", extra={
                "request_id": request.request_id, "method": request.method,
                "path": logged_path(request), "status": response.status_int,
                "duration_ms": round(elapsed * 1000, 2),
                "user": resolved_userid(request),
            })
        return response

    return plinth_tween
