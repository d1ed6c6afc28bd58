"""Every report is a resource with its own ACL: grants per report, denies, and
no leak of which reports exist."""

from __future__ import annotations

from typing import Any

import pytest

from plinth.api import IReadEngine, get_service

STOCK_REPORTS = ["low-stock", "movements", "stock-balance", "stock-on-hand", "valuation"]
ERROR_KEYS = {"status", "error", "message", "details"}


def grant(
    principal: str, permission: str = "reports.view", action: str = "Allow"
) -> dict[str, str]:
    return {"action": action, "principal": principal, "permission": permission}


def assert_error(response: Any, status: int, error: str) -> None:
    assert response.status_int == status, response.text
    assert response.content_type == "application/json"
    assert set(response.json) == ERROR_KEYS
    assert (response.json["status"], response.json["error"]) == (status, error)


def test_grant_on_one_report_allows_that_report_only(
    boss: Any, testapp: Any, make_user: Any, login: Any
) -> None:
    boss.put_json("/reports/low-stock/@@acl", {"entries": [grant("group:buyers")]}, status=200)
    make_user("bella", "buyers")
    bella = login("bella")

    assert testapp.get("/reports/low-stock", headers=bella).json["report"] == "low-stock"
    csv = testapp.get("/reports/low-stock?format=csv", headers=bella)
    assert csv.text.startswith("sku,name,reorder_point,")
    for name in ("movements", "stock-on-hand", "valuation", "stock-balance"):
        assert_error(testapp.get(f"/reports/{name}", headers=bella, status=403), 403, "forbidden")
        assert_error(
            testapp.get(f"/reports/{name}?format=csv", headers=bella, status=403), 403, "forbidden"
        )
    assert_error(
        testapp.get("/reports/stock-balance?format=svg", headers=bella, status=403),
        403,
        "forbidden",
    )
    # the listing shows the one report bella may view, and no other
    listed = testapp.get("/reports", headers=bella).json["reports"]
    assert [r["name"] for r in listed] == ["low-stock"]
    # and the grant is what made the difference
    make_user("otto", "others")
    otto = login("otto")
    assert_error(testapp.get("/reports/low-stock", headers=otto, status=403), 403, "forbidden")
    assert testapp.get("/reports", headers=otto).json == {"reports": []}

    # the report's ACL is explained like any other resource's
    def decision(report: str) -> dict[str, Any]:
        body = boss.get(f"/reports/{report}/@@permissions?principal=user:bella").json
        return next(p for p in body["permissions"] if p["permission"] == "reports.view")

    allowed = decision("low-stock")
    assert allowed["allowed"] is True
    assert (allowed["decided_by"]["resource"], allowed["decided_by"]["principal"]) == (
        "/reports/low-stock",
        "group:buyers",
    )
    assert decision("movements")["allowed"] is False


def test_grant_on_reports_with_a_deny_on_one(boss: Any, as_principal: Any) -> None:
    boss.put_json("/reports/@@acl", {"entries": [grant("group:clerks")]}, status=200)
    boss.put_json(
        "/reports/valuation/@@acl", {"entries": [grant("group:clerks", action="Deny")]}, status=200
    )
    clerk = as_principal("user:carl", "group:clerks")

    listed = clerk.get("/reports").json["reports"]
    assert [r["name"] for r in listed] == [n for n in STOCK_REPORTS if n != "valuation"]
    for name in STOCK_REPORTS:
        if name == "valuation":
            for query in ("", "?format=csv", "?format=svg"):
                assert_error(clerk.get(f"/reports/valuation{query}", status=403), 403, "forbidden")
        else:
            assert clerk.get(f"/reports/{name}").json["report"] == name
    # the deny is for clerks only: an administrator still sees everything
    # (and the access review, which a grant on /reports does not reach)
    assert [r["name"] for r in boss.get("/reports").json["reports"]] == [
        "access-review",
        *STOCK_REPORTS,
    ]
    boss.get("/reports/valuation", status=200)


@pytest.mark.parametrize(
    "url",
    [
        "/reports",
        "/reports/low-stock",
        "/reports/low-stock?format=csv",
        "/reports/stock-balance?format=svg",
        "/reports/nosuch",
        "/reports/nosuch?format=csv",
        "/reports/nosuch/deeper",
        "/reports/low-stock/@@acl",
        "/reports/movements?bad=1",
    ],
)
def test_anonymous_gets_401_whether_or_not_the_report_exists(testapp: Any, url: str) -> None:
    response = testapp.get(url, status=401)
    assert_error(response, 401, "unauthorized")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_wrong_token_is_401(testapp: Any) -> None:
    for url in ("/reports", "/reports/low-stock", "/reports/nosuch"):
        assert_error(
            testapp.get(url, headers={"Authorization": "Bearer plinth_nope"}, status=401),
            401,
            "unauthorized",
        )


def test_without_reports_view_a_missing_report_is_403_not_404(as_principal: Any, boss: Any) -> None:
    nobody = as_principal("user:nobody")
    # the listing shows what one may view: nothing
    assert nobody.get("/reports").json == {"reports": []}
    for url in (
        "/reports/nosuch",
        "/reports/nosuch?format=csv",
        "/reports/low-stock",
        "/reports/nosuch/deeper",
    ):
        assert_error(nobody.get(url, status=403), 403, "forbidden")
    # one who may view the reports learns that it does not exist
    assert_error(boss.get("/reports/nosuch", status=404), 404, "not_found")


def test_grant_on_one_report_does_not_reveal_others(boss: Any, as_principal: Any) -> None:
    boss.put_json("/reports/low-stock/@@acl", {"entries": [grant("group:buyers")]}, status=200)
    buyer = as_principal("user:bea", "group:buyers")
    # a missing report and an existing forbidden one answer alike
    missing = buyer.get("/reports/nosuch", status=403)
    forbidden = buyer.get("/reports/movements", status=403)
    assert missing.json["error"] == forbidden.json["error"] == "forbidden"


def test_reports_view_elsewhere_grants_nothing_here(boss: Any, as_principal: Any) -> None:
    # reports.view granted on /stock does not reach /reports
    boss.put_json("/stock/@@acl", {"entries": [grant("group:clerks")]}, status=200)
    clerk = as_principal("user:carl", "group:clerks")
    assert_error(clerk.get("/reports/low-stock", status=403), 403, "forbidden")
    # stock.view on /reports is not reports.view either
    boss.put_json("/reports/@@acl", {"entries": [grant("group:clerks", "stock.view")]}, status=200)
    assert_error(clerk.get("/reports/low-stock", status=403), 403, "forbidden")


def test_listing_checks_every_report_with_one_acl_statement(
    as_principal: Any, sql_counter: Any
) -> None:
    viewer = as_principal("user:vic", "group:viewers")
    admin = as_principal("user:root", "group:admins")
    admin.put_json(
        "/reports/@@acl",
        {
            "entries": [
                {"action": "Allow", "principal": "group:viewers", "permission": "reports.view"}
            ]
        },
    )
    admin.put_json(
        "/reports/movements/@@acl",
        {
            "entries": [
                {"action": "Deny", "principal": "group:viewers", "permission": "reports.view"}
            ]
        },
    )
    with sql_counter() as counter:
        names = [r["name"] for r in viewer.get("/reports").json["reports"]]
    assert "movements" not in names and "low-stock" in names
    # the listing needs no permission of its own: one statement for every ACL
    assert len([s for s in counter.statements if "acl_resources" in s]) == 1


def test_parameters_parsed_without_the_request_still_filter_for_its_caller(
    plinth_registry: Any, as_principal: Any
) -> None:
    """A plugin that runs reports itself (parse_parameters without a request)
    gets the same visibility as /reports: the request being served decides."""
    from pyramid.request import Request
    from pyramid.threadlocal import manager
    from webob.multidict import MultiDict

    from plinth.api import Identity
    from plinth.testing import IDENTITY_KEY
    from plinth_reporting.parameters import parse_parameters
    from plinth_reporting.registry import get_report

    boss = as_principal("user:boss", "group:admins")
    boss.put_json(
        "/locations/@@acl",
        {
            "entries": [
                {"action": "Allow", "principal": "group:viewers", "permission": "stock.view"}
            ]
        },
    )
    boss.put_json(
        "/locations/WH2/@@acl",
        {"entries": [{"action": "Deny", "principal": "group:viewers", "permission": "stock.view"}]},
    )
    report = get_report(plinth_registry, "stock-on-hand")
    params = parse_parameters(report, MultiDict())
    with pytest.raises(RuntimeError):
        params.visible("/locations", "stock.view")  # no caller: refused, not everything
    request = Request.blank("/reports/stock-on-hand")
    request.registry = plinth_registry
    request.environ[IDENTITY_KEY] = Identity("user:v", frozenset({"user:v", "group:viewers"}))
    from plinth.api import root_factory

    request.root = root_factory(request)
    engine = get_service(plinth_registry, IReadEngine)
    from sqlalchemy.orm import Session

    with Session(engine) as session:
        request.__dict__["db"] = session
        manager.push({"request": request, "registry": plinth_registry})
        try:
            seen = parse_parameters(report, MultiDict()).visible("/locations", "stock.view")
        finally:
            manager.pop()
    assert seen.allows("WH1") and not seen.allows("WH2")
