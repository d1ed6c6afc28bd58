"""The report registry: declarations checked and made reports, and ``config.add_report``.

A declaration is plain data (dicts, tuples and a callable), so that a plugin
contributing reports needs nothing from this package but the directive.  Bad
declarations stop start-up with a ConfigurationError naming the report; two
reports with one name conflict (ConfigurationConflictError).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from pyramid.exceptions import ConfigurationError

from plinth.api import check_default

from .models import CHART_PERIODS, RESERVED_PARAMETERS, Chart, Column, Parameter, Query, Report
from .openapi import add_report_path

REGISTRY_KEY = "reporting.reports"

NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
PARAMETER_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,63}$")

COLUMN_TYPES = ("string", "integer", "decimal", "date", "datetime")
PARAMETER_TYPES = ("string", "integer", "number", "boolean")
PARAMETER_FORMATS = ("date", "date-time")
# JSON Schema keywords a parameter may carry besides its type.
PARAMETER_KEYWORDS = frozenset(
    {"format", "enum", "default", "minimum", "maximum", "minLength", "maxLength", "pattern"}
)
CHART_KINDS = ("bar", "line")


# Declarations --------------------------------------------------------------------


def _fail(report: str, message: str) -> ConfigurationError:
    return ConfigurationError(f"report {report!r}: {message}")


def _resolve(config: Any, report: str, value: Any, what: str) -> Any:
    """``value`` (a callable or its dotted name) resolved, or a ConfigurationError.

    The error names the report, as every start-up error of a report does; a
    bare ImportError would not.
    """
    try:
        return config.maybe_dotted(value)
    except (ImportError, ValueError) as exc:
        raise _fail(report, f"{what} {value!r} cannot be imported ({exc})") from None


def parse_column(report: str, spec: Any) -> Column:
    if isinstance(spec, (tuple, list)) and len(spec) == 2:
        spec = {"name": spec[0], "type": spec[1]}
    if not isinstance(spec, Mapping):
        raise _fail(report, f"a column is a (name, type) pair or a mapping, not {spec!r}")
    unknown = set(spec) - {"name", "type", "description", "scale"}
    if unknown:
        raise _fail(report, f"unknown column keys {sorted(unknown)}")
    name, kind = spec.get("name"), spec.get("type")
    if not isinstance(name, str) or not name:
        raise _fail(report, f"column without a name: {dict(spec)!r}")
    if kind not in COLUMN_TYPES:
        raise _fail(
            report, f"column {name!r} has type {kind!r}; use one of {', '.join(COLUMN_TYPES)}"
        )
    scale = spec.get("scale")
    if scale is not None and (
        kind != "decimal" or not isinstance(scale, int) or not 0 <= scale <= 12
    ):
        raise _fail(report, f"column {name!r}: scale is 0 to 12, for decimal columns only")
    return Column(name, kind, str(spec.get("description", "")), scale)


def parse_parameter(report: str, spec: Any) -> Parameter:
    if not isinstance(spec, Mapping):
        raise _fail(report, f"a parameter is a mapping, not {spec!r}")
    name = spec.get("name")
    if not isinstance(name, str) or not PARAMETER_NAME.fullmatch(name):
        raise _fail(report, f"bad parameter name {name!r} (lower case, digits, _)")
    if name in RESERVED_PARAMETERS:
        raise _fail(report, f"parameter name {name!r} is reserved")
    schema = {k: v for k, v in spec.items() if k not in ("name", "required", "description")}
    kind = schema.get("type")
    if kind not in PARAMETER_TYPES:
        raise _fail(
            report, f"parameter {name!r} has type {kind!r}; use one of {', '.join(PARAMETER_TYPES)}"
        )
    unknown = set(schema) - PARAMETER_KEYWORDS - {"type"}
    if unknown:
        raise _fail(report, f"parameter {name!r}: unsupported keywords {sorted(unknown)}")
    fmt = schema.get("format")
    if fmt is not None and (kind != "string" or fmt not in PARAMETER_FORMATS):
        raise _fail(report, f"parameter {name!r}: format is 'date' or 'date-time', on a string")
    required = spec.get("required", False)
    if not isinstance(required, bool):
        raise _fail(report, f"parameter {name!r}: required is true or false")
    if required and "default" in schema:
        raise _fail(report, f"parameter {name!r} is required and has a default")
    parameter = Parameter(name, schema, required, str(spec.get("description", "")))
    problem = check_default(parameter)
    if problem is not None:
        raise _fail(report, f"parameter {name!r}: bad default ({problem})")
    return parameter


def parse_chart(
    config: Any, report: str, spec: Any, columns: Sequence[Column], parameters: Sequence[Parameter]
) -> Chart:
    if not isinstance(spec, Mapping):
        raise _fail(report, f"a chart is a mapping, not {spec!r}")
    unknown = set(spec) - {"kind", "x", "y", "title", "x_label", "y_label", "query", "x_period"}
    if unknown:
        raise _fail(report, f"unknown chart keys {sorted(unknown)}")
    kind = spec.get("kind")
    if kind not in CHART_KINDS:
        raise _fail(report, f"chart kind {kind!r}; use one of {', '.join(CHART_KINDS)}")
    y = spec.get("y")
    y_columns = (y,) if isinstance(y, str) else tuple(y or ())
    x = spec.get("x")
    if not isinstance(x, str) or not y_columns or not all(isinstance(c, str) for c in y_columns):
        raise _fail(report, "a chart names its x column and one or more y columns")
    query = (
        _resolve(config, report, spec["query"], "the chart query")
        if spec.get("query") is not None
        else None
    )
    if query is not None and not callable(query):
        raise _fail(report, "the chart query is not callable")
    if query is None:
        # Without its own query the chart plots the report's rows.
        types = {c.name: c.type for c in columns}
        for name in (x, *y_columns):
            if name not in types:
                raise _fail(report, f"the chart uses {name!r}, which is not a column")
        for name in y_columns:
            if types[name] not in ("integer", "decimal"):
                raise _fail(report, f"the chart plots {name!r}, which is not a number")
    x_period = spec.get("x_period")
    if (
        x_period is not None
        and x_period not in CHART_PERIODS
        and x_period not in {p.name for p in parameters}
    ):
        raise _fail(
            report,
            f"chart x_period {x_period!r} is neither one of "
            f"{', '.join(CHART_PERIODS)} nor a parameter",
        )
    return Chart(
        kind,
        x,
        y_columns,
        str(spec.get("title", "")),
        str(spec.get("x_label", "")),
        str(spec.get("y_label", "")),
        query,
        x_period,
    )


def add_report(
    config: Any,
    name: str,
    query: Query | str,
    *,
    title: str,
    columns: Sequence[Any],
    description: str = "",
    parameters: Sequence[Mapping[str, Any]] = (),
    chart: Mapping[str, Any] | None = None,
    default_acl: Sequence[tuple[str, str, str]] = (),
) -> None:
    """Directive ``config.add_report(name, query, title=..., columns=..., ...)``.

    Publishes ``/reports/<name>`` (JSON, streamed CSV and, with ``chart``, an
    SVG chart), with its own ACL: ``reports.view`` is granted per report.

    - ``query(db, params)`` returns a SQLAlchemy ``Select`` whose rows are the
      report's rows.  ``db`` is a ``Connection`` to the reporting database
      (the replica named by ``reporting.database_url``, else the main one):
      use ``db.dialect.name`` for dialect-specific SQL.  ``params`` holds every
      declared parameter, converted (``date`` for ``format: date``, an aware
      UTC ``datetime`` for ``date-time``, ``int``, ``Decimal``, ``bool``) and
      ``None`` when absent without a default.  To reject a combination of
      parameters, raise ``plinth.errors.api_error(400, ...)``.  Rows about
      resources the caller may not view must be left out:
      ``params.visible("/locations", "stock.view").where(column)`` is a SQL
      condition on a column of child names (see :mod:`plinth.visibility`).
    - ``columns``: ``(name, type)`` pairs or mappings ``{"name", "type",
      "description"?, "scale"?}``; type is one of string, integer, decimal,
      date, datetime.  The query's result must have a column of each name.
    - ``parameters``: mappings ``{"name", "type", "required"?, "description"?}``
      plus JSON Schema keywords (``format`` date or date-time, ``enum``,
      ``default``, ``minimum``, ``maximum``, ``minLength``, ``maxLength``,
      ``pattern``); type is string, integer, number or boolean.
    - ``chart``: ``{"kind": "bar"|"line", "x", "y": [...], "title"?,
      "x_label"?, "y_label"?, "query"?, "x_period"?}``; with ``query`` (same
      signature as the report's) the points come from that statement.  Rows
      with the same x are summed.  Dates go on a time axis; ``x_period`` (day,
      week, month, or the name of a parameter holding one) says how long a
      period each x value starts, so that bars cover it.
    - ``default_acl``: code-default entries of ``/reports/<name>``, e.g.
      ``[("Deny", "system.Everyone", "reports.view")]`` for a report that a
      grant on ``/reports`` must not reach (only an entry on the report itself,
      or a superuser, opens it).

    Two reports with one name conflict at start-up.
    """
    if not isinstance(name, str) or not NAME.fullmatch(name):
        raise ConfigurationError(
            f"bad report name {name!r}: lower case letters, digits and '-', at most 64"
        )
    query = _resolve(config, name, query, "the query")
    if not callable(query):
        raise _fail(name, "query is not callable")
    if not title:
        raise _fail(name, "a report needs a title")
    parsed_columns = tuple(parse_column(name, c) for c in columns)
    if not parsed_columns:
        raise _fail(name, "a report needs at least one column")
    if len({c.name for c in parsed_columns}) != len(parsed_columns):
        raise _fail(name, "two columns have the same name")
    parsed_parameters = tuple(parse_parameter(name, p) for p in parameters)
    if len({p.name for p in parsed_parameters}) != len(parsed_parameters):
        raise _fail(name, "two parameters have the same name")
    parsed_chart = (
        parse_chart(config, name, chart, parsed_columns, parsed_parameters) if chart else None
    )
    source = getattr(query, "__module__", "") or ""
    report = Report(
        name,
        title,
        description,
        query,
        parsed_columns,
        parsed_parameters,
        parsed_chart,
        source,
        tuple((a, p, perm) for a, p, perm in default_acl),
    )

    intr = config.introspectable("plinth reports", name, title, "plinth report")
    intr["report"] = report
    intr["source"] = source

    def register() -> None:
        config.registry.setdefault(REGISTRY_KEY, {})[name] = report

    config.action(("plinth.report", name), register, introspectables=(intr,))
    add_report_path(config, report)


def registered_reports(registry: Any) -> dict[str, Report]:
    """The reports, by name, in name order."""
    return dict(sorted(registry.get(REGISTRY_KEY, {}).items()))


def get_report(registry: Any, name: str) -> Report | None:
    return registry.get(REGISTRY_KEY, {}).get(name)
