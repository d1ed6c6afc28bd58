"""Security headers on every response, and ``Location`` sent as set."""

from __future__ import annotations

from typing import Any

from pyramid.request import Request
from pyramid.response import Response

API_CSP = "default-src 'none'; frame-ancestors 'none'"
SECURITY_HEADERS = (
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "no-referrer"),
    ("Cross-Origin-Resource-Policy", "same-origin"),
    ("Content-Security-Policy", API_CSP),
    ("Cache-Control", "no-store"),
)
DOCS_CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "frame-ancestors 'none'"
)


def send_location_as_is(response: Response) -> None:
    """Send ``Location`` as the application set it.

    WebOb, when it sends a response, turns a relative ``Location`` into an
    absolute URL built from the request's ``Host`` header: the very echo that
    :mod:`plinth.urls` avoids by handing out relative references.
    """
    response._abs_headerlist = lambda environ: response.headerlist  # type: ignore[method-assign]


def security_headers_tween_factory(handler: Any, registry: Any) -> Any:
    """Tween: the security headers, unless the view set its own."""

    def security_headers_tween(request: Request) -> Response:
        response = handler(request)
        # One pass over the header list instead of a case-insensitive scan
        # per header: this runs on every response.  A view's own value wins.
        headerlist = response.headerlist
        present = {name.lower() for name, _ in headerlist}
        headerlist.extend(h for h in SECURITY_HEADERS if h[0].lower() not in present)
        if "location" in present:
            send_location_as_is(response)
        if request.scheme == "https" and "strict-transport-security" not in present:
            headerlist.append(("Strict-Transport-Security", "max-age=31536000"))
        return response

    return security_headers_tween
