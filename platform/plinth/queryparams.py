"""Query parameters: declared once, converted, and the one shape of their 400.

A parameter is declared with a JSON Schema (:class:`QueryParameter`); an
endpoint lists its parameters (``query=[...]``), which are published in
OpenAPI and arrive converted in ``request.query``.  Every bad query
parameter is answered alike: a 400 whose ``details.errors``
holds ``{"location": "query", "field": name, "message": problem}``, the
shape a bad body field has, so that a client reads both the same way.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from functools import cached_property
from typing import Any

from pyramid.request import Request

from .errors import APIError, api_error


def query_problem(name: str, problem: str) -> dict[str, Any]:
    """One entry of ``details.errors`` about query parameter ``name``."""
    return {"location": "query", "field": name, "message": problem}


def query_error(
    name: str, problem: str, message: str | None = None, code: str = "invalid_request"
) -> APIError:
    """The 400 for query parameter ``name``: raise it.

    ``problem`` is the short reason in ``details`` ("required", "not an
    integer"); ``message`` the sentence for people (default: "query
    parameter 'name': problem").
    """
    return api_error(
        400,
        code,
        message or f"query parameter {name!r}: {problem}",
        {"errors": [query_problem(name, problem)]},
    )


# Declared parameters -------------------------------------------------------

DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
INTEGER = re.compile(r"^[+-]?\d{1,18}$")
# What OpenAPI serializes a boolean to, in any case; 1 and 0 are not booleans
# in JSON either.
BOOLEANS = {"true": True, "false": False}


@dataclass(frozen=True)
class QueryParameter:
    """A query-string parameter declared once: its name and a JSON Schema.

    The schema's ``type`` (string, the default, integer, number, boolean) says how the
    text converts, its other keywords what a converted value may be; a
    string with ``format`` date or date-time becomes a ``date`` or an aware
    ``datetime``.  The same declaration is published in OpenAPI
    (:meth:`document`) and parsed per request (:func:`parse_query`).
    """

    name: str
    schema: dict[str, Any]
    required: bool = False
    description: str = ""

    @property
    def type(self) -> str:
        return str(self.schema.get("type", "string"))

    @property
    def default(self) -> Any:
        return self.schema.get("default")

    @cached_property
    def validator(self) -> Any:
        """The compiled validator of a converted value (the format is checked apart)."""
        from .validation import StrictValidator

        return StrictValidator(
            {k: v for k, v in self.schema.items() if k not in ("format", "default")}
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            **self.schema,
            "required": self.required,
            "description": self.description,
        }

    def document(self) -> dict[str, Any]:
        """The parameter as an OpenAPI parameter object."""
        parameter: dict[str, Any] = {
            "name": self.name,
            "in": "query",
            "required": self.required,
            "schema": dict(self.schema),
        }
        if self.description:
            parameter["description"] = self.description
        if not self.required:
            # An empty value counts as absent (an HTML form sends empty filters).
            parameter["allowEmptyValue"] = True
        return parameter


class BadValue(ValueError):
    """A query-string value that does not convert; the message is for the caller."""


def invalid_query(problems: list[dict[str, Any]]) -> APIError:
    """The 400 for several bad query parameters at once."""
    fields = ", ".join(repr(p["field"]) for p in problems)
    return api_error(
        400, "invalid_request", f"invalid query parameter(s): {fields}", {"errors": problems}
    )


def convert(parameter: QueryParameter, raw: str) -> Any:
    """The value of ``raw`` as the parameter's type, before its schema is checked."""
    kind = parameter.type
    if "\x00" in raw:
        # PostgreSQL refuses NUL in text: a %00 in a filter is a bad value.
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


def typed(parameter: QueryParameter, value: Any) -> Any:
    """A checked string with a date format becomes a ``date`` or an aware datetime."""
    fmt = parameter.schema.get("format")
    if value is None or fmt not in ("date", "date-time"):
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
        raise BadValue("must be an ISO 8601 date and time, e.g. 2024-05-01T12:00:00Z") from None
    # A time without an offset is taken as UTC, the time zone the database uses.
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def schema_problems(parameter: QueryParameter, value: Any) -> list[str]:
    # jsonschema knows no Decimal: check numbers as floats (bounds only).
    checked = float(value) if isinstance(value, Decimal) else value
    return [error.message for error in parameter.validator.iter_errors(checked)]


def check_default(parameter: QueryParameter) -> str | None:
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


def parse_query(
    parameters: Sequence[QueryParameter],
    query: Any,
    strict: bool = False,
    reserved: Collection[str] = (),
) -> dict[str, Any]:
    """The declared ``parameters`` from ``query`` (a WebOb MultiDict), or a 400.

    An empty value counts as absent; a parameter given twice is an error.
    ``strict``: a parameter nobody declared (and not ``reserved``) is an error
    too, for lists where a misspelt filter must not silently widen the answer.
    Every problem is reported at once, one entry per parameter.
    """
    problems: list[dict[str, Any]] = []
    values: dict[str, Any] = {}
    if strict:
        declared = {p.name for p in parameters}
        for name in dict.fromkeys(query.keys()):
            if name not in declared and name not in reserved:
                known = ", ".join(sorted(declared)) or "none"
                problems.append(
                    query_problem(name, f"unknown parameter (this call takes: {known})")
                )
    for parameter in parameters:
        name = parameter.name
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
        raise invalid_query(problems)
    return values


def query_deriver(view: Any, info: Any) -> Any:
    """``query=[QueryParameter, ...]``: the parameters, converted, in ``request.query``."""
    parameters = tuple(info.options.get("query") or ())
    if not parameters:
        return view

    def parsing_view(context: Any, request: Request) -> Any:
        request.query = parse_query(parameters, request.GET)
        return view(context, request)

    return parsing_view


query_deriver.options = ("query",)  # type: ignore[attr-defined]


def includeme(config: Any) -> None:
    config.add_view_deriver(query_deriver, under="decorated_view", over="body_schema_deriver")
