"""Prometheus metrics of the requests served, with bounded labels.

A label value never comes from what a client sends: the route is the matched
route's name, or for traversal the class of the context plus a view name the
application registered ("unmatched" otherwise); the method is one of a fixed
set ("other" otherwise); the status is its class (``2xx`` ... ``5xx``).  So
any number of invented methods and paths adds no time series.

Statements are counted by a SQLAlchemy event on every engine, into the
context of the request that runs them (:mod:`plinth.requestcontext`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from prometheus_client import Counter, Histogram
from sqlalchemy import event
from sqlalchemy.engine import Engine

from . import requestcontext

REQUESTS = Counter("plinth_http_requests", "HTTP requests answered", ["route", "method", "status"])
LATENCY = Histogram(
    "plinth_http_request_seconds", "time to produce a response", ["route", "method"]
)
STATEMENTS = Histogram(
    "plinth_db_statements_per_request",
    "SQL statements a request ran (transaction control left out)",
    ["route"],
    buckets=(0, 1, 2, 3, 4, 6, 8, 12, 16, 32, 64, 128),
)

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "unmatched"
# Not statements of the request's own work: the budgets in README count
# without them, and so does this metric.
TRANSACTION_CONTROL = frozenset({"BEGIN", "BEGIN IMMEDIATE", "COMMIT", "ROLLBACK"})


def method_label(method: str) -> str:
    return method if method in METHODS else "other"


def status_label(status: int) -> str:
    kind = status // 100
    return f"{kind}xx" if 1 <= kind <= 5 else "other"


def registered_view_names(registry: Any) -> frozenset[str]:
    """The names of the views the application registered (a bounded set)."""
    views: Iterable[Any] = registry.introspector.get_category("views") or ()
    return frozenset(entry["introspectable"]["name"] or "" for entry in views)


def route_label(request: Any, view_names: frozenset[str]) -> str:
    """What the request was for, in words the code chose, never its path."""
    route = getattr(request, "matched_route", None)
    if route is not None:
        return str(route.name)
    context = request.__dict__.get("context")
    if context is None:
        # Answered before traversal: a malformed URL, a body too large, a
        # CORS preflight.
        return UNMATCHED
    kind = type(context)
    name = f"{kind.__module__}.{kind.__qualname__}"
    view_name = getattr(request, "view_name", "")
    if not view_name:
        return name
    if view_name in view_names:
        return f"{name}@@{view_name}"
    return UNMATCHED


def observe(request: Any, route: str, status: int, seconds: float, statements: int) -> None:
    """Count one answered request."""
    method = method_label(request.method)
    REQUESTS.labels(route, method, status_label(status)).inc()
    LATENCY.labels(route, method).observe(seconds)
    STATEMENTS.labels(route).observe(statements)


def _count_statement(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
    context = requestcontext.current()
    if context is not None and statement not in TRANSACTION_CONTROL:
        context.statements += 1


def includeme(config: Any) -> None:
    # On the Engine class: the replica engine of a plugin counts as well.
    if not event.contains(Engine, "before_cursor_execute", _count_statement):
        event.listen(Engine, "before_cursor_execute", _count_statement)
