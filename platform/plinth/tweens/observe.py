"""The access line and the metrics of each request, as the client saw it.

An attempt that pyramid_retry is about to serve again is neither logged nor
counted: only the attempt that answers is.  Neither costs a statement: the
user is the one the security policy already resolved, if any.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from pyramid.request import Request
from pyramid.response import Response

from .. import metrics, requestcontext
from ..errors import will_retry
from ..logs import ACCESS_LOGGER
from ..security import resolved_userid

access_log = logging.getLogger(ACCESS_LOGGER)


def logged_path(request: Request) -> str:
    """The path for the log, also when it is not valid UTF-8 (a 400 is logged too)."""
    try:
        return request.path_info
    except UnicodeDecodeError:
        raw = request.environ.get("PATH_INFO", "").encode("latin-1")
        return raw.decode("utf-8", "backslashreplace")


def observe_tween_factory(handler: Any, registry: Any) -> Any:
    """Tween: one access line and the metrics for each answered request."""
    # Read once the configuration is committed: the set of view names is
    # what bounds the traversal routes' label values.
    view_names = metrics.registered_view_names(registry)

    def observe_tween(request: Request) -> Response:
        started = time.perf_counter()
        response = handler(request)
        failure = getattr(request, "exception", None)
        if failure is not None and will_retry(request, failure):
            # pyramid_retry discards this response and serves the request
            # again: the attempt that answers is the one counted and logged.
            return response
        elapsed = time.perf_counter() - started
        route = metrics.route_label(request, view_names)
        context = requestcontext.current()
        statements = context.statements if context is not None else 0
        status = response.status_int
        metrics.observe(request, route, status, elapsed, statements)
        if access_log.isEnabledFor(logging.INFO):
            method, path, ms = request.method, logged_path(request), elapsed * 1000
            access_log.info(
                "%s %s %s %.1f ms %s",
                method,
                path,
                status,
                ms,
                resolved_userid(request) or "anonymous",
                extra={
                    "method": method,
                    "path": path,
                    "status": status,
                    "duration_ms": round(ms, 2),
                    "route": route,
                    "statements": statements,
                },
            )
        return response

    return observe_tween
