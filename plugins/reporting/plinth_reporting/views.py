"""``GET /reports`` and ``GET /reports/<name>?format=json|csv|svg``."""

from __future__ import annotations

from typing import Any

from pyramid.request import Request
from pyramid.response import Response

from plinth.api import api_error, clock, json_response, query_error, signed_in, visible

from . import services
from .openapi import LISTING, TAGS, format_parameter, responses, result_schema
from .output import TooManyPoints
from .parameters import parse_parameters
from .resources import ReportResource, ReportsContainer

REPORT_NAME = {
    "name": "name",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "pattern": "^[a-z0-9][a-z0-9-]*$"},
}
CONTENT_TYPES = {"json": "application/json", "csv": "text/csv", "svg": "image/svg+xml"}


def list_reports(context: ReportsContainer, request: Request) -> dict[str, Any]:
    """The reports the caller may view (each report has its own ACL); an
    empty list for a caller who may view none."""
    base = request.application_url + "/reports/"
    return {
        "reports": [
            {**resource.report.describe(), "url": base + resource.__name__}
            for resource in visible(request, "reports.view", context.reports())
        ]
    }


def _format(request: Request, resource: ReportResource) -> str:
    # A repeated format (format=csv&format=json) is a 400, like every other
    # parameter given twice: taking either value would be a guess.
    given = [value for value in request.GET.getall("format") if value != ""]
    if len(given) > 1:
        raise query_error("format", "given twice", "query parameter 'format' given twice")
    fmt = given[0] if given else "json"
    formats = resource.report.formats
    if fmt not in formats:
        why = "this report has no chart" if fmt == "svg" else f"must be one of {', '.join(formats)}"
        raise query_error("format", why, f"format {fmt!r}: {why}")
    return fmt


def get_report(context: ReportResource, request: Request) -> Response:
    report = context.report
    fmt = _format(request, context)
    params = parse_parameters(report, request.GET, request)
    registry = request.registry
    if fmt == "svg":
        try:
            body = services.chart_svg(registry, report, params)
        except TooManyPoints as exc:
            raise api_error(
                400,
                "chart_too_large",
                f"the chart would have more than {exc.limit} points: narrow the "
                f"parameters (dates, a longer period) or use format=csv",
                {"limit": exc.limit},
            ) from None
        return Response(body=body, content_type=CONTENT_TYPES["svg"])
    stream = services.open_stream(registry, report, params, fmt)
    # app_iter: the body is produced while it is sent (no Content-Length,
    # chunked), from the stream's own connection.
    response = Response(app_iter=stream, content_type=CONTENT_TYPES[fmt])
    if fmt == "csv":
        response.charset = "utf-8"
        today = clock.now().date().isoformat()
        response.headers["Content-Disposition"] = (
            f'attachment; filename="{report.name}-{today}.csv"'
        )
    return response


def includeme(config: Any) -> None:
    config.add_endpoint(
        list_reports,
        "/reports",
        "GET",
        context=ReportsContainer,
        name="",
        permits=signed_in,
        summary="The reports you may view (reports.view on /reports)",
        tags=TAGS,
        responses={"200": json_response("the reports", LISTING)},
    )
    config.add_endpoint(
        get_report,
        "/reports/{name}",
        "GET",
        context=ReportResource,
        name="",
        renderer=None,
        permission="reports.view",
        # svg only on the paths of the reports that have a chart.
        parameters=[REPORT_NAME, format_parameter(["json", "csv"])],
        summary="Run a report (reports.view on that report); its own path lists its parameters",
        tags=TAGS,
        responses=responses(["json", "csv"], result_schema()),
    )
