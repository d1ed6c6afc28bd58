"""The ``access-review`` report: stored entries expanded to the users holding them."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest

from plinth.testing import acl_entry as grant

CLERK = "stock.issue stock.receive stock.reserve stock.view"


@pytest.fixture
def root(as_principal: Any, make_user: Any) -> Any:
    root = as_principal("user:root", "group:admins")
    make_user("ann", "clerks")
    make_user("bob", "clerks")
    make_user("cy")
    make_user("dee", "clerks", active=False)
    root.put_json("/locations/WH1", {"name": "Main"})
    root.put_json(
        "/locations/WH1/@@acl",
        {
            "entries": [
                grant("group:clerks", "role:stock.clerk"),
                grant("user:cy", "stock.view", "Deny"),
                grant("group:empty", "stock.adjust"),
            ]
        },
    )
    root.put_json("/stock/@@acl", {"entries": [grant("system.Authenticated", "stock.view")]})
    return root


def test_entries_are_expanded_to_users(root: Any) -> None:
    body = root.get("/reports/access-review").json
    rows = [
        (
            r["resource"],
            r["position"],
            r["action"],
            r["principal"],
            r["permission"],
            r["grants"],
            r["user"],
        )
        for r in body["rows"]
    ]
    assert rows == [
        ("/locations/WH1", 0, "Allow", "group:clerks", "role:stock.clerk", CLERK, "ann"),
        ("/locations/WH1", 0, "Allow", "group:clerks", "role:stock.clerk", CLERK, "bob"),
        ("/locations/WH1", 1, "Deny", "user:cy", "stock.view", "stock.view", "cy"),
        ("/locations/WH1", 2, "Allow", "group:empty", "stock.adjust", "stock.adjust", None),
        ("/stock", 0, "Allow", "system.Authenticated", "stock.view", "stock.view", "ann"),
        ("/stock", 0, "Allow", "system.Authenticated", "stock.view", "stock.view", "bob"),
        ("/stock", 0, "Allow", "system.Authenticated", "stock.view", "stock.view", "cy"),
    ]
    csv_text = root.get("/reports/access-review?format=csv").body.decode("utf-8")
    parsed = list(csv.DictReader(io.StringIO(csv_text, newline="")))
    assert len(parsed) == len(rows)
    assert parsed[0] == {
        "resource": "/locations/WH1",
        "position": "0",
        "action": "Allow",
        "principal": "group:clerks",
        "permission": "role:stock.clerk",
        "grants": CLERK,
        "user": "ann",
    }
    narrowed = root.get("/reports/access-review?resource=/locations&principal=user:cy").json
    assert [(r["resource"], r["user"]) for r in narrowed["rows"]] == [("/locations/WH1", "cy")]


def test_a_grant_on_all_reports_does_not_reach_the_access_review(
    root: Any, as_principal: Any
) -> None:
    # it tells who is in which group: only an entry on the report itself opens it
    root.put_json("/reports/@@acl", {"entries": [grant("group:readers", "reports.view")]})
    reader = as_principal("user:rea", "group:readers")
    reader.get("/reports/low-stock", status=200)
    reader.get("/reports/access-review", status=403)
    root.put_json(
        "/reports/access-review/@@acl", {"entries": [grant("group:auditors", "reports.view")]}
    )
    auditor = as_principal("user:aud", "group:auditors")
    # the seven rows above, and the two grants on reports to groups without members
    assert auditor.get("/reports/access-review").json["row_count"] == 9
    reader.get("/reports/access-review", status=403)
