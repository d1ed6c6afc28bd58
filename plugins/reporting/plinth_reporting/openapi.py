"""The reporting paths in /openapi.json: the generic ones and one per report."""

from __future__ import annotations

from typing import Any

from plinth.api import json_response

from .models import Report

TAGS = ["reports"]
NAME = {"name": "name", "in": "path", "required": True,
        "schema": {"type": "string", "pattern": "^[a-z0-9][a-z0-9-]*$"}}
ROW_TYPES: dict[str, dict[str, Any]] = {
    "string": {"type": "string", "nullable": True},
    "integer": {"type": "integer", "nullable": True},
    "decimal": {"type": "string", "format": "decimal", "nullable": True},
    "date": {"type": "string", "format": "date", "nullable": True},
    "datetime": {"type": "string", "format": "date-time", "nullable": True},
}
PARAMETER_SCHEMA = {"type": "object", "required": ["name", "type", "required"],
                    "properties": {"name": {"type": "string"}, "type": {"type": "string"},
                                   "required": {"type": "boolean"},
                                   "description": {"type": "string"}}}
LISTING = {
    "type": "object",
    "required": ["reports"],
    "properties": {"reports": {"type": "array", "items": {
        "type": "object",
        "required": ["name", "title", "description", "parameters", "columns", "formats",
                     "url"],
        "properties": {
            "name": {"type": "string"}, "title": {"type": "string"},
            "description": {"type": "string"},
            "parameters": {"type": "array", "items": PARAMETER_SCHEMA},
            "columns": {"type": "array", "items": {
                "type": "object", "required": ["name", "type"],
                "properties": {"name": {"type": "string"},
                               "type": {"type": "string", "enum": list(ROW_TYPES)}}}},
            "formats": {"type": "array", "items": {"type": "string"}},
            "chart": {"type": "object", "nullable": True},
            "url": {"type": "string"},
        }}}},
}


def result_schema(columns: dict[str, Any] | None = None) -> dict[str, Any]:
    rows = {"type": "object", "properties": columns} if columns else {"type": "object"}
    return {
        "type": "object",
        "required": ["report", "title", "generated_at", "columns", "parameters", "rows",
                     "row_count"],
        "properties": {
            "report": {"type": "string"}, "title": {"type": "string"},
            "generated_at": {"type": "string", "format": "date-time"},
            "columns": {"type": "array", "items": {"type": "object"}},
            "parameters": {"type": "object"},
            "rows": {"type": "array", "items": rows},
            "row_count": {"type": "integer"},
        },
    }


def format_parameter(formats: list[str]) -> dict[str, Any]:
    return {"name": "format", "in": "query", "required": False, "allowEmptyValue": True,
            "description": "json (default, also when empty), csv (streamed, a download) "
                           "or svg (the report's chart, when it has one)",
            "schema": {"type": "string", "enum": formats, "default": "json"}}


def responses(formats: list[str], schema: dict[str, Any]) -> dict[str, Any]:
    content: dict[str, Any] = {"application/json": {"schema": schema},
                               "text/csv": {"schema": {"type": "string"}}}
    if "svg" in formats:
        content["image/svg+xml"] = {"schema": {"type": "string"}}
    return {"200": {"description": "the report: JSON, a CSV download (a header row, "
                                   "then one line a row) or an SVG chart",
                    "content": content}}


def add_report_path(config: Any, report: Report) -> None:
    """Publish ``GET /reports/<name>`` with the report's parameters and columns."""
    parameters = [format_parameter(report.formats)]
    for p in report.parameters:
        parameter = {"name": p.name, "in": "query", "required": p.required,
                     "description": p.description, "schema": dict(p.schema)}
        if not p.required:
            # An empty value counts as absent (an HTML form sends empty filters).
            parameter["allowEmptyValue"] = True
        parameters.append(parameter)
    columns = {c.name: {**ROW_TYPES[c.type], **({"description": c.description}
                                                 if c.description else {})}
               for c in report.columns}
    config.add_openapi_path(f"/reports/{report.name}", "get", {
        "summary": f"{report.title} (reports.view on this report)",
        "description": report.description,
        "tags": TAGS,
        "parameters": parameters,
        "responses": responses(report.formats, result_schema(columns)),
    })


def includeme(config: Any) -> None:
    config.add_openapi_path("/reports", "get", {
        "summary": "The reports you may view (reports.view on /reports)", "tags": TAGS,
        "responses": {"200": json_response("the reports", LISTING)}})
    config.add_openapi_path("/reports/{name}", "get", {
        "summary": "Run a report (reports.view on that report); its own path lists its "
                   "parameters", "tags": TAGS,
        # svg only on the paths of the reports that have a chart.
        "parameters": [NAME, format_parameter(["json", "csv"])],
        "responses": responses(["json", "csv"], result_schema())})
