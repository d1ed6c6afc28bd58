"""Report parameters from the query string: converted, checked, 400 when wrong.

A report's parameters are declared query parameters, parsed by the core
(:func:`plinth.api.parse_query`): every problem is reported at once, one
entry per parameter.  What is the report's own is what a report query
receives: the values, and what the caller may see.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from plinth.api import Visibility, parse_query, visible_children

from .registry import RESERVED_PARAMETERS, Report


class ReportParameters(dict[str, Any]):
    """A report's converted parameters, and what its caller may see.

    A report query filters its rows with ``params.visible(path, permission)``
    (a :class:`plinth.visibility.Visibility` of the children of the resource
    at ``path``), so that rows about what the caller may not view are left out
    by the database.  ``request`` defaults to the request being served, for
    callers that parse parameters without naming it; with no request at all
    (a script) ``visible`` refuses rather than show everything.
    """

    def __init__(self, values: dict[str, Any], request: Any = None) -> None:
        super().__init__(values)
        self.request = request
        self._visible: dict[tuple[str, str], Visibility] = {}

    def visible(self, path: str, permission: str) -> Visibility:
        key = (path, permission)
        if key not in self._visible:
            from pyramid.threadlocal import get_current_request
            from pyramid.traversal import find_resource

            request = self.request if self.request is not None else get_current_request()
            if request is None:
                raise RuntimeError("report parameters without a caller: visibility unknown")
            container = find_resource(request.root, path)
            self._visible[key] = visible_children(request, container, permission)
        return self._visible[key]


def parse_parameters(report: Report, query: Any, request: Any = None) -> ReportParameters:
    """``report``'s parameters from ``query`` (a WebOb MultiDict), or a 400.

    An empty value counts as absent.  Unknown and repeated parameters are
    errors: a misspelt filter must not silently widen a report.  ``request``
    is the caller's, for :meth:`ReportParameters.visible`.
    """
    values = parse_query(report.parameters, query, strict=True, reserved=RESERVED_PARAMETERS)
    return ReportParameters(values, request)


def json_value(value: Any) -> Any:
    """A parameter value as the JSON answer echoes it."""
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value
