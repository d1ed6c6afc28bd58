"""A database that cannot be reached answers a JSON 503, never a 500.

While PostgreSQL restarts (or the network to it fails), every statement fails
with a connection error.  Those requests get ``503 unavailable`` with a
``Retry-After``, so clients and nginx know to try again, and the error is
logged as a warning without a traceback.  The engine checks each pooled
connection before use (``pool_pre_ping``, see :mod:`plinth.db`), so the
first requests after the database is back succeed without restarting Plinth.
"""

from __future__ import annotations

import logging
from typing import Any

from pyramid.request import Request
from pyramid.response import Response
from sqlalchemy import exc as sa

from .errors import json_error_response, last_resort_view, will_retry

log = logging.getLogger(__name__)

RETRY_AFTER = "5"

# DB-API "OperationalError": the database's operation failed, not the query
# (connection refused or lost, server shutting down); "InterfaceError": the
# connection itself is broken; a pool timeout: no connection to be had.
UNAVAILABLE = (sa.OperationalError, sa.InterfaceError, sa.TimeoutError, sa.DisconnectionError)


def database_unavailable_view(context: Exception, request: Request) -> Response:
    if will_retry(request, context):
        # A deadlock or serialization failure is an OperationalError too, but
        # a transient one: pyramid_retry serves the request again.
        return last_resort_view(context, request)
    cause = getattr(context, "orig", None) or context
    log.warning(
        "database unavailable for request %s: %s: %s",
        getattr(request, "request_id", None),
        type(cause).__name__,
        str(cause).strip().splitlines()[0] if str(cause).strip() else "",
    )
    response = json_error_response(
        request,
        503,
        "unavailable",
        "the database is unavailable for now: try again shortly",
        {"request_id": getattr(request, "request_id", None)},
    )
    response.headers["Retry-After"] = RETRY_AFTER
    return response


def includeme(config: Any) -> None:
    for error in UNAVAILABLE:
        config.add_exception_view(database_unavailable_view, context=error)
