"""Report parameters from the query string: converted, checked, 400 when wrong.

Every problem is reported at once, one entry per parameter, in the core's
error shape (``{"location": "query", "field": name, "message": ...}``).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from plinth.api import APIError, Visibility, api_error, query_problem, visible_children

from .models import RESERVED_PARAMETERS, Parameter, Report

DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
INTEGER = re.compile(r"^[+-]?\d{1,18}$")
BOOLEANS = {"true": True, "false": False, "1": True, "0": False}


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


class BadValue(ValueError):
    """A query-string value that does not convert; the message is for the caller."""


def invalid(problems: list[dict[str, Any]]) -> APIError:
    fields = ", ".join(repr(p["field"]) for p in problems)
    return api_error(400, "invalid_request", f"invalid query parameter(s): {fields}",
                     {"errors": problems})


def convert(parameter: Parameter, raw: str) -> Any:
    """The value of ``raw`` as the parameter's type, before its schema is checked."""
    kind = parameter.type
    if "\x00" in raw:
        # PostgreSQL refuses NUL in text (and SQLite would match nothing):
        # a %00 in a filter is a bad value, not a database error.
        raise BadValue("must not contain a NUL character")
    if kind == "integer":
        if not INTEGER.fullmatch(raw):
            raise BadValue("must be an integer")
        return int(raw)
    if kind == "number":
        try:
            number = Decimal(raw)
        except InvalidOperation:
            raise BadValue("must be a number") from None
        if not number.is_finite():
            raise BadValue("must be a finite number")
        return number
    if kind == "boolean":
        value = BOOLEANS.get(raw.lower())
        if value is None:
            raise BadValue("must be true or false")
        return value
    return raw


def typed(parameter: Parameter, value: Any) -> Any:
    """A checked string with a date format becomes a ``date`` or an aware datetime."""
    fmt = parameter.schema.get("format")
    if value is None or fmt is None:
        return value
    if fmt == "date":
        if not DATE.fullmatch(value):
            raise BadValue("must be a date, YYYY-MM-DD")
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise BadValue("is not a valid date") from None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise BadValue("must be an ISO 8601 date and time, e.g. 2024-05-01T12:00:00Z") \
            from None
    # A time without an offset is taken as UTC, the time zone the ledger uses.
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def schema_problems(parameter: Parameter, value: Any) -> list[str]:
    # jsonschema knows no Decimal: check numbers as floats (bounds only).
    checked = float(value) if isinstance(value, Decimal) else value
    return [error.message for error in parameter.validator.iter_errors(checked)]


def parse_parameters(report: Report, query: Any, request: Any = None) -> ReportParameters:
    """``report``'s parameters from ``query`` (a WebOb MultiDict), or a 400.

    An empty value counts as absent.  Unknown and repeated parameters are
    errors: a misspelt filter must not silently widen a report.  ``request``
    is the caller's, for :meth:`ReportParameters.visible`.
    """
    problems: list[dict[str, Any]] = []
    declared = {p.name: p for p in report.parameters}
    values: dict[str, Any] = {}
    for name in dict.fromkeys(query.keys()):
        if name not in declared and name not in RESERVED_PARAMETERS:
            known = ", ".join(sorted(declared)) or "none"
            problems.append(query_problem(name, f"unknown parameter (this report takes: {known})"))
    for name, parameter in declared.items():
        raws = [r for r in query.getall(name) if r != ""]
        if len(raws) > 1:
            problems.append(query_problem(name, "given twice"))
            continue
        if not raws:
            if parameter.required:
                problems.append(query_problem(name, "required"))
                continue
            values[name] = typed(parameter, parameter.default)
            continue
        try:
            value = convert(parameter, raws[0])
            messages = schema_problems(parameter, value)
            if messages:
                raise BadValue(messages[0])
            values[name] = typed(parameter, value)
        except BadValue as exc:
            problems.append(query_problem(name, str(exc)))
    if problems:
        raise invalid(problems)
    return ReportParameters(values, request)


def check_default(parameter: Parameter) -> str | None:
    """Why the declared default of ``parameter`` is not a valid value, if it is not."""
    if "default" not in parameter.schema or parameter.default is None:
        return None
    try:
        messages = schema_problems(parameter, parameter.default)
        if messages:
            return messages[0]
        typed(parameter, parameter.default)
    except BadValue as exc:
        return str(exc)
    return None


def json_value(value: Any) -> Any:
    """A parameter value as the JSON answer echoes it."""
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value
