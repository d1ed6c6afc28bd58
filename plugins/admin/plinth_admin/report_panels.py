"""Reports in the console: a parameter form, the first rows as a table, the
chart and a CSV download, through the reporting plugin's services.

The chart and the CSV are served under /admin/ (the session cookie does not
authenticate ``GET /reports/...``), with the same permission, ``reports.view``.
"""

from __future__ import annotations

from importlib.resources import files
from typing import Any

from pyramid.request import Request
from pyramid.response import Response
from webob.multidict import MultiDict

from plinth.api import APIError, api_error, clock
from plinth_reporting import services
from plinth_reporting.output import TooManyPoints
from plinth_reporting.parameters import parse_parameters
from plinth_reporting.resources import ReportResource

from .views.common import ROUTE, admin_path

TEMPLATE = str(files("plinth_admin").joinpath("templates", "panels", "report.jinja2"))
TABLE_ROWS = 100


def report_query(context: ReportResource, request: Request) -> MultiDict:
    """The report's own parameters from the page's query string."""
    names = {p.name for p in context.report.parameters}
    return MultiDict([(k, v) for k, v in request.GET.items() if k in names])


def report_panel(context: ReportResource, request: Request) -> dict[str, Any]:
    report = context.report
    query = report_query(context, request)
    values = {
        "report": report,
        "query": query,
        "error": None,
        "rows": [],
        "more": False,
        "chart": None,
        "csv": admin_path(request, context, "report.csv", **dict(query)),
    }
    try:
        params = parse_parameters(report, query)
    except APIError as exc:
        problems = exc.details.get("errors") or []
        values["error"] = "; ".join(f"{p['field']}: {p['message']}" for p in problems)
        return values
    stream = services.open_stream(request.registry, report, params, "csv")
    try:
        for chunk in stream.rows():
            values["rows"].extend(chunk)
            if len(values["rows"]) > TABLE_ROWS:
                break
    finally:
        stream.close()
    values["more"] = len(values["rows"]) > TABLE_ROWS
    values["rows"] = values["rows"][:TABLE_ROWS]
    if report.chart is not None:
        values["chart"] = admin_path(request, context, "chart.svg", **dict(query))
    return values


def report_csv(context: ReportResource, request: Request) -> Response:
    report = context.report
    params = parse_parameters(report, report_query(context, request))
    response = Response(
        app_iter=services.open_stream(request.registry, report, params, "csv"),
        content_type="text/csv",
        charset="utf-8",
    )
    today = clock.now().date().isoformat()
    response.headers["Content-Disposition"] = f'attachment; filename="{report.name}-{today}.csv"'
    return response


def report_chart(context: ReportResource, request: Request) -> Response:
    report = context.report
    if report.chart is None:
        raise api_error(404, "not_found", "This report has no chart.")
    params = parse_parameters(report, report_query(context, request))
    try:
        body = services.chart_svg(request.registry, report, params)
    except TooManyPoints as exc:
        raise api_error(
            400,
            "chart_too_large",
            f"The chart would have more than {exc.limit} points: narrow the parameters.",
        ) from None
    return Response(body=body, content_type="image/svg+xml")


def includeme(config: Any) -> None:
    config.add_admin_panel(
        "reporting.report",
        ReportResource,
        report_panel,
        TEMPLATE,
        "Report",
        permission="reports.view",
        order=10,
    )
    config.add_view(
        report_csv,
        route_name=ROUTE,
        context=ReportResource,
        name="report.csv",
        request_method="GET",
        permission="reports.view",
    )
    config.add_view(
        report_chart,
        route_name=ROUTE,
        context=ReportResource,
        name="chart.svg",
        request_method="GET",
        permission="reports.view",
    )
