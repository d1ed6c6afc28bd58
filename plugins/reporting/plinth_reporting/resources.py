"""``/reports`` and ``/reports/<name>``: every report is a resource with its own ACL.

No default ACL here: ``group:admins`` holds everything at the root, and
administrators grant ``reports.view`` per report (``/reports/<name>/@@acl``)
or for all reports at once (``/reports/@@acl``).
"""

from __future__ import annotations

from plinth.api import Resource

from .models import Report
from .registry import get_report, registered_reports


class ReportsContainer(Resource):
    """``/reports``: its children are the registered reports."""

    __view_permission__ = "reports.view"

    def __getitem__(self, name: str) -> ReportResource:
        registry = self.request.registry if self.request is not None else None
        report = get_report(registry, name) if registry is not None else None
        if report is None:
            raise KeyError(name)
        return ReportResource(self, name, report)

    def children(self, after: str | None = None, limit: int = 50) -> list[Resource]:
        names = (
            sorted(
                n for n in registered_reports(self.request.registry) if after is None or n > after
            )[:limit]
            if self.request
            else []
        )
        return [self[name] for name in names]

    def reports(self) -> list[ReportResource]:
        """Every registered report as a resource, in name order."""
        if self.request is None:
            return []
        return [
            ReportResource(self, name, report)
            for name, report in registered_reports(self.request.registry).items()
        ]


class ReportResource(Resource):
    """One report; traversal ends here (``/reports/<name>/@@acl`` is a view)."""

    __view_permission__ = "reports.view"

    def __init__(self, parent: ReportsContainer, name: str, report: Report) -> None:
        super().__init__(parent, name)
        self.report = report

    @property
    def __default_acl__(self) -> list[tuple[str, str, str]]:  # type: ignore[override]
        return list(self.report.default_acl)
