"""plinth-reporting: a report registry any plugin contributes to (``config.add_report``).

Every report is a resource, ``/reports/<name>``, with its own ACL, and answers
as JSON, streamed CSV and, where it declares a chart, SVG.
"""

from __future__ import annotations

from typing import Any

requires: tuple[str, ...] = ()


def includeme(config: Any) -> None:
    from plinth.api import IReadEngine

    from .services import ENGINE_NAME, database_url, replica_engine

    # Empty: reports read the main database.  Otherwise a read replica, so
    # that long report reads stay off the primary.
    url = config.plinth_setting("reporting.database_url", "", database_url)
    if url:
        config.register_service(replica_engine(url), IReadEngine, name=ENGINE_NAME)
    config.registry.setdefault("reporting.reports", {})
    config.add_directive("add_report", "plinth_reporting.registry.add_report")
    config.declare_permission(
        "reports.view",
        "see a report (grant it per report at /reports/<name>, or at /reports for all)",
    )
    config.declare_role("reports.reader", ["reports.view"], title="Read reports")
    config.add_tree_child("reports", "plinth_reporting.resources.ReportsContainer")
    config.include(".views")
    config.include(".access")
