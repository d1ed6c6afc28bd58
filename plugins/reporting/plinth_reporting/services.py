"""Running reports: which database, the statement, the output streams, the chart."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Connection, Engine

from plinth.api import IReadEngine, clock, get_service, query_service

from .models import Report
from .output import CsvStream, JsonStream, RowStream, fetch_points
from .parameters import json_value

# The name of reporting's own IReadEngine, registered when it reads a replica.
ENGINE_NAME = "reporting"
# More distinct x values than this make an unreadable chart: 400, narrow it.
MAX_CHART_POINTS = 1000


def database_url(value: Any) -> str:
    return str(value or "").strip()


def replica_engine(url: str) -> Engine:
    """The engine of ``reporting.database_url``; a bad URL stops start-up."""
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    from plinth.api import SettingError, make_engine

    try:
        return make_engine(url)
    except (ArgumentError, NoSuchModuleError, ImportError) as exc:
        # The message leaves the value out: a database URL may hold a password.
        raise SettingError(
            f"setting 'reporting.database_url' is not a usable database URL "
            f"({type(exc).__name__}): use dialect+driver://user@host/db"
        ) from None


def reporting_engine(registry: Any) -> Engine:
    """The replica named by ``reporting.database_url`` if any, else the main engine."""
    engine = query_service(registry, IReadEngine, ENGINE_NAME)
    return engine if engine is not None else get_service(registry, IReadEngine)


def connect(registry: Any) -> Connection:
    return reporting_engine(registry).connect()


def statement(
    report: Report, connection: Connection, params: dict[str, Any], chart: bool = False
) -> Any:
    """The report's (or its chart's) statement for ``params``."""
    if chart and report.chart is not None and report.chart.query is not None:
        return report.chart.query(connection, params)
    return report.query(connection, params)


def describe_parameters(params: dict[str, Any]) -> dict[str, Any]:
    return {name: json_value(value) for name, value in params.items()}


def json_head(report: Report, params: dict[str, Any]) -> dict[str, Any]:
    return {
        "report": report.name,
        "title": report.title,
        "generated_at": clock.now().isoformat(timespec="seconds"),
        "columns": [{"name": c.name, "type": c.type} for c in report.columns],
        "parameters": describe_parameters(params),
    }


def open_stream(registry: Any, report: Report, params: dict[str, Any], fmt: str) -> RowStream:
    """The executed report, ready to stream as ``fmt`` (json or csv).

    The caller hands the stream to the response; whoever iterates it (or
    not) must call ``close()``, which WSGI servers do.
    """
    connection = connect(registry)
    try:
        stmt = statement(report, connection, params)
        stream: RowStream
        if fmt == "csv":
            stream = CsvStream(connection, stmt, report.columns)
        else:
            stream = JsonStream(connection, stmt, report.columns, json_head(report, params))
    except BaseException:
        connection.close()
        raise
    return stream.start()


def chart_svg(registry: Any, report: Report, params: dict[str, Any]) -> bytes:
    """The report's chart as SVG; raises TooManyPoints when it would be unreadable."""
    from .charts import render_svg

    chart = report.chart
    assert chart is not None
    with connect(registry) as connection:
        stmt = statement(report, connection, params, chart=True)
        points = fetch_points(connection, stmt, chart.x, chart.y, MAX_CHART_POINTS)
    shown = ", ".join(
        f"{name} {json_value(value)}" for name, value in params.items() if value is not None
    )
    return render_svg(chart, report.title, shown, points, chart.period(params))
