"""What a report is: its columns, parameters and chart (plain classes, no tables).

The registry builds them from declarations; parameters, output, charts and
the OpenAPI description read them.  They import nothing else of this package,
so that every module can use them without an import cycle.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from plinth.api import QueryParameter

CHART_PERIODS = ("day", "week", "month")
# Query parameters every report answers to; a report cannot declare them.
RESERVED_PARAMETERS = frozenset({"format"})

Query = Callable[[Any, dict[str, Any]], Any]

# A report's parameter is a query parameter declared once, as any endpoint's.
Parameter = QueryParameter


@dataclass(frozen=True)
class Column:
    """One output column.  ``scale`` fixes the decimals of a decimal column."""

    name: str
    type: str
    description: str = ""
    scale: int | None = None

    def as_dict(self) -> dict[str, Any]:
        result: dict[str, Any] = {"name": self.name, "type": self.type}
        if self.description:
            result["description"] = self.description
        if self.scale is not None:
            result["scale"] = self.scale
        return result


@dataclass(frozen=True)
class Chart:
    """How to draw a report: ``kind`` of ``y`` columns against ``x``.

    ``query`` (optional) computes the points in SQL, with the report's
    parameters, when the report's own rows are too many or too fine to plot.
    """

    kind: str
    x: str
    y: tuple[str, ...]
    title: str = ""
    x_label: str = ""
    y_label: str = ""
    query: Query | None = None
    x_period: str | None = None

    def period(self, params: Mapping[str, Any]) -> str | None:
        """The period each x value starts (day, week, month), if the chart says."""
        if self.x_period is None or self.x_period in CHART_PERIODS:
            return self.x_period
        value = params.get(self.x_period)
        return value if value in CHART_PERIODS else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "x": self.x,
            "y": list(self.y),
            "title": self.title,
            "x_label": self.x_label,
            "y_label": self.y_label,
        }


@dataclass(frozen=True)
class Report:
    name: str
    title: str
    description: str
    query: Query
    columns: tuple[Column, ...]
    parameters: tuple[Parameter, ...] = ()
    chart: Chart | None = None
    source: str = field(default="", compare=False)
    # Code-default ACL of /reports/<name>, before what /reports grants.
    default_acl: tuple[tuple[str, str, str], ...] = ()

    @property
    def formats(self) -> list[str]:
        return ["json", "csv", "svg"] if self.chart is not None else ["json", "csv"]

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "description": self.description,
            "parameters": [p.as_dict() for p in self.parameters],
            "columns": [c.as_dict() for c in self.columns],
            "formats": self.formats,
            "chart": self.chart.as_dict() if self.chart is not None else None,
        }
