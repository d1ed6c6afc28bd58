"""Reports in /openapi.json: the shapes of their answers, and one path per report.

The generic endpoints (``/reports``, ``/reports/{name}``) are declared in
:mod:`plinth_reporting.views`; each report also gets a path of its own that
lists its parameters and columns, served by the same view.
"""

from __future__ import annotations

from typing import Any

from .models import Report

TAGS = ["reports"]
ROW_TYPES: dict[str, dict[str, Any]] = {
    "string": {"type": ["string", "null"]},
    "integer": {"type": ["integer", "null"]},
    "decimal": {"type": ["string", "null"], "format": "decimal"},
    "date": {"type": ["string", "null"], "format": "date"},
    "datetime": {"type": ["string", "null"], "format": "date-time"},
}
PARAMETER_SCHEMA = {
    "type": "object",
    "required": ["name", "type", "required"],
    "properties": {
        "name": {"type": "string"},
        "type": {"type": "string"},
        "required": {"type": "boolean"},
        "description": {"type": "string"},
    },
}
LISTING = {
    "type": "object",
    "required": ["reports"],
    "properties": {
        "reports": {
            "type": "array",
            "items": {
                "type": "object",
                "required": [
                    "name",
                    "title",
                    "description",
                    "parameters",
                    "columns",
                    "formats",
                    "url",
                ],
                "properties": {
                    "name": {"type": "string"},
                    "title": {"type": "string"},
                    "description": {"type": "string"},
                    "parameters": {"type": "array", "items": PARAMETER_SCHEMA},
                    "columns": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["name", "type"],
                            "properties": {
                                "name": {"type": "string"},
                                "type": {"type": "string", "enum": list(ROW_TYPES)},
                            },
                        },
                    },
                    "formats": {"type": "array", "items": {"type": "string"}},
                    "chart": {"type": ["object", "null"]},
                    "url": {"type": "string"},
                },
            },
        }
    },
}


def result_schema(columns: dict[str, Any] | None = None) -> dict[str, Any]:
    rows = {"type": "object", "properties": columns} if columns else {"type": "object"}
    return {
        "type": "object",
        "required": [
            "report",
            "title",
            "generated_at",
            "columns",
            "parameters",
            "rows",
            "row_count",
        ],
        "properties": {
            "report": {"type": "string"},
            "title": {"type": "string"},
            "generated_at": {"type": "string", "format": "date-time"},
            "columns": {"type": "array", "items": {"type": "object"}},
            "parameters": {"type": "object"},
            "rows": {"type": "array", "items": rows},
            "row_count": {"type": "integer"},
        },
    }


def format_parameter(formats: list[str]) -> dict[str, Any]:
    return {
        "name": "format",
        "in": "query",
        "required": False,
        "allowEmptyValue": True,
        "description": "json (default, also when empty), csv (streamed, a download) "
        "or svg (the report's chart, when it has one)",
        "schema": {"type": "string", "enum": formats, "default": "json"},
    }


def responses(formats: list[str], schema: dict[str, Any]) -> dict[str, Any]:
    content: dict[str, Any] = {
        "application/json": {"schema": schema},
        "text/csv": {"schema": {"type": "string"}},
    }
    if "svg" in formats:
        content["image/svg+xml"] = {"schema": {"type": "string"}}
    return {
        "200": {
            "description": "the report: JSON, a CSV download (a header row, "
            "then one line a row) or an SVG chart",
            "content": content,
        }
    }


def add_report_path(config: Any, report: Report) -> None:
    """Publish ``GET /reports/<name>``, served by the generic report view, with
    the report's own parameters and columns."""
    from .views import get_report

    columns = {
        c.name: {**ROW_TYPES[c.type], **({"description": c.description} if c.description else {})}
        for c in report.columns
    }
    config.add_openapi_path(
        f"/reports/{report.name}",
        "get",
        {
            "summary": f"{report.title} (reports.view on this report)",
            "description": report.description,
            "tags": TAGS,
            "parameters": [
                format_parameter(report.formats),
                *(parameter.document() for parameter in report.parameters),
            ],
            "responses": responses(report.formats, result_schema(columns)),
        },
        view=get_report,
    )
