"""What a caller may not view is neither shown nor hinted at: levels at a
location where the caller lacks ``stock.view`` are left out of items, lists,
totals and the location list (PRODUCT.md section 5, "Visibility")."""

from __future__ import annotations

from typing import Any

import pytest

from .helpers import reserve, stocked

SECTION_9_KEYS = {"sku", "stock", "on_hand", "reserved", "locations"}


def acl(boss: Any, path: str, *entries: tuple[str, str, str]) -> None:
    boss.put_json(
        f"{path}/@@acl",
        {
            "entries": [
                {"action": action, "principal": principal, "permission": permission}
                for action, principal, permission in entries
            ]
        },
        status=200,
    )


@pytest.fixture
def stock_in_two_places(boss: Any) -> None:
    """A-1: 10 at WH1, 3 at WH2 (1 reserved); C-3: 5 at WH2 only; D-4 nowhere."""
    stocked(boss, "A-1", "WH1", 10)
    stocked(boss, "A-1", "WH2", 3)
    reserve(boss, "WH2", "A-1", 1)
    stocked(boss, "C-3", "WH2", 5)
    stocked(boss, "D-4", "WH1", 0)


@pytest.fixture
def denied_wh2(boss: Any, as_principal: Any, stock_in_two_places: None) -> Any:
    """A viewer who may view stock everywhere but at WH2 (a Deny there)."""
    acl(boss, "/stock", ("Allow", "group:viewers", "stock.view"))
    acl(boss, "/locations", ("Allow", "group:viewers", "stock.view"))
    acl(boss, "/locations/WH2", ("Deny", "group:viewers", "stock.view"))
    return as_principal("user:vera", "group:viewers")


@pytest.fixture
def only_wh1(boss: Any, as_principal: Any, stock_in_two_places: None) -> Any:
    """A viewer granted stock.view on the catalog and at WH1 only (nothing else)."""
    acl(boss, "/stock", ("Allow", "group:pickers", "stock.view"))
    acl(boss, "/locations/WH1", ("Allow", "group:pickers", "stock.view"))
    return as_principal("user:pia", "group:pickers")


def totals(app: Any, query: str = "") -> dict[str, tuple[int, int, int]]:
    items = app.get(f"/stock{query}").json["items"]
    return {i["sku"]: (i["stock"], i["on_hand"], i["reserved"]) for i in items}


def test_an_item_leaves_out_levels_at_hidden_locations(denied_wh2: Any, boss: Any) -> None:
    body = denied_wh2.get("/stock/A-1").json
    assert set(body) >= SECTION_9_KEYS
    assert body["locations"] == [{"location": "WH1", "on_hand": 10, "reserved": 0, "available": 10}]
    assert (body["stock"], body["on_hand"], body["reserved"]) == (10, 10, 0)
    # nothing hints at WH2: an item stocked only there looks like an empty one
    c3 = denied_wh2.get("/stock/C-3").json
    assert (c3["locations"], c3["stock"], c3["on_hand"], c3["reserved"]) == ([], 0, 0, 0)
    # the administrator still sees both
    full = boss.get("/stock/A-1").json
    assert [row["location"] for row in full["locations"]] == ["WH1", "WH2"]
    assert (full["stock"], full["on_hand"], full["reserved"]) == (12, 13, 1)


def test_the_item_list_totals_cover_visible_locations(denied_wh2: Any, boss: Any) -> None:
    assert totals(denied_wh2) == {"A-1": (10, 10, 0), "C-3": (0, 0, 0), "D-4": (0, 0, 0)}
    assert totals(boss) == {"A-1": (12, 13, 1), "C-3": (5, 5, 0), "D-4": (0, 0, 0)}
    # a hidden location filters to nothing, exactly like a location that does not exist
    assert totals(denied_wh2, "?location=WH2") == {}
    assert totals(denied_wh2, "?location=NOPE") == {}
    assert totals(denied_wh2, "?location=WH1") == {"A-1": (10, 10, 0)}
    assert set(totals(boss, "?location=WH2")) == {"A-1", "C-3"}
    # below the reorder point is judged on what the caller sees
    assert set(totals(denied_wh2, "?below_reorder_point=true")) == {"C-3", "D-4"}


def test_the_location_list_leaves_out_hidden_locations(denied_wh2: Any, boss: Any) -> None:
    listed = denied_wh2.get("/locations").json["items"]
    assert [location["code"] for location in listed] == ["WH1"]
    assert [location["code"] for location in boss.get("/locations").json["items"]] == ["WH1", "WH2"]
    denied_wh2.get("/locations/WH2", status=403)
    denied_wh2.get("/locations/WH2/A-1", status=403)


def test_pages_stay_full_when_locations_are_hidden(boss: Any, as_principal: Any) -> None:
    for code in ("L1", "L2", "L3", "L4", "L5"):
        stocked(boss, "A-1", code, 1)
    acl(boss, "/stock", ("Allow", "group:viewers", "stock.view"))
    acl(boss, "/locations", ("Allow", "group:viewers", "stock.view"))
    for code in ("L1", "L3"):
        acl(boss, f"/locations/{code}", ("Deny", "group:viewers", "stock.view"))
    viewer = as_principal("user:vic", "group:viewers")
    first = viewer.get("/locations?limit=2").json
    assert [location["code"] for location in first["items"]] == ["L2", "L4"]
    second = viewer.get(f"/locations?limit=2&cursor={first['next_cursor']}").json
    assert [location["code"] for location in second["items"]] == ["L5"]
    assert second["next_cursor"] is None


def test_the_rule_holds_for_grants_only_at_some_locations(only_wh1: Any, boss: Any) -> None:
    # a new location is hidden too: the grant names WH1, nothing else
    stocked(boss, "A-1", "WH3", 7)
    assert [r["location"] for r in only_wh1.get("/stock/A-1").json["locations"]] == ["WH1"]
    assert totals(only_wh1)["A-1"] == (10, 10, 0)
    assert totals(only_wh1, "?location=WH3") == {}
    # a grant at WH2 shows WH2 from the next request on
    acl(boss, "/locations/WH2", ("Allow", "group:pickers", "stock.view"))
    assert [r["location"] for r in only_wh1.get("/stock/A-1").json["locations"]] == ["WH1", "WH2"]
    assert totals(only_wh1)["A-1"] == (12, 13, 1)


def test_inherit_false_at_a_location_hides_it(
    boss: Any, as_principal: Any, stock_in_two_places: None
) -> None:
    acl(boss, "/", ("Allow", "group:viewers", "stock.view"), ("Allow", "group:admins", "ALL"))
    boss.put_json("/locations/WH2/@@acl", {"entries": [], "inherit": False}, status=200)
    viewer = as_principal("user:vic", "group:viewers")
    assert [r["location"] for r in viewer.get("/stock/A-1").json["locations"]] == ["WH1"]
    assert totals(viewer)["C-3"] == (0, 0, 0)
    assert [loc["code"] for loc in viewer.get("/locations").json["items"]] == ["WH1"]


def test_get_item_statement_budget(denied_wh2: Any, sql_counter: Any) -> None:
    denied_wh2.get("/stock/A-1")
    with sql_counter() as counter:
        body = denied_wh2.get("/stock/A-1").json
    assert body["stock"] == 10
    assert [level["location"] for level in body["locations"]] == ["WH1"]
    statements = "\n---\n".join(counter.statements)
    # warm: the item with its levels and the security version; the context's
    # lineage and the levels' locations' ACLs are cached at that version
    assert counter.count == 1, statements
    assert not [s for s in counter.statements if "acl_" in s], statements


def test_list_items_statement_budget(denied_wh2: Any, sql_counter: Any) -> None:
    with sql_counter() as counter:
        assert totals(denied_wh2)["A-1"] == (10, 10, 0)
    statements = "\n---\n".join(counter.statements)
    # the context's ACL lineage, every location's stored ACL, the page of items
    assert counter.count <= 3, statements
    assert len([s for s in counter.statements if "acl_" in s]) == 2, statements


# Reports ---------------------------------------------------------------------------

REPORTS_WITH_LOCATIONS = ["stock-on-hand", "movements", "stock-balance", "valuation"]


@pytest.fixture
def report_viewer(boss: Any, denied_wh2: Any) -> Any:
    acl(boss, "/reports", ("Allow", "group:viewers", "reports.view"))
    return denied_wh2


def rows(app: Any, name: str, query: str = "") -> list[dict[str, Any]]:
    return app.get(f"/reports/{name}?format=json{query}").json["rows"]


@pytest.mark.parametrize("name", REPORTS_WITH_LOCATIONS)
def test_reports_leave_out_rows_of_hidden_locations(
    report_viewer: Any, boss: Any, name: str
) -> None:
    seen = {row["location"] for row in rows(report_viewer, name)} - {None}
    assert seen == {"WH1"}
    assert {row["location"] for row in rows(boss, name)} - {None} == {"WH1", "WH2"}
    csv = report_viewer.get(f"/reports/{name}?format=csv").text
    assert "WH1" in csv and "WH2" not in csv
    # asking for the hidden location is asking for nothing
    assert rows(report_viewer, name, "&location=WH2") in (
        [],
        [
            {
                "line": "total",
                "sku": None,
                "name": None,
                "location": None,
                "on_hand": 0,
                "unit_cost": None,
                "value": "0.0000",
            }
        ],
    )


def test_report_totals_cover_visible_locations(report_viewer: Any, boss: Any) -> None:
    boss.put_json("/stock/C-3", {"name": "Item C-3", "reorder_point": 2, "unit_cost": "1.5"})
    boss.put_json("/stock/A-1", {"name": "Item A-1", "unit_cost": "2"})
    total = rows(report_viewer, "valuation")[-1]
    assert (total["line"], total["on_hand"], total["value"]) == ("total", 10, "20.0000")
    assert rows(boss, "valuation")[-1]["value"] == "33.5000"
    # low stock judges what the caller can see: C-3 has nothing visible
    low = {row["sku"]: row for row in rows(report_viewer, "low-stock")}
    assert low["C-3"]["available"] == 0
    assert "C-3" not in {row["sku"] for row in rows(boss, "low-stock")}
    # a balance carried from hidden movements would hint at them too
    balance = rows(report_viewer, "stock-balance", "&sku=A-1")
    assert [(r["location"], r["closing"]) for r in balance] == [("WH1", 10)]


def test_chart_of_a_report_counts_visible_locations_only(report_viewer: Any, boss: Any) -> None:
    boss.put_json("/stock/C-3", {"name": "Item C-3", "unit_cost": "1.5"})
    viewer_svg = report_viewer.get("/reports/valuation?format=svg").text
    assert "WH1" in viewer_svg and "WH2" not in viewer_svg
    assert "WH2" in boss.get("/reports/valuation?format=svg").text


def test_the_report_list_shows_what_the_caller_may_view(boss: Any, as_principal: Any) -> None:
    acl(boss, "/reports/low-stock", ("Allow", "group:buyers", "reports.view"))
    acl(boss, "/reports/valuation", ("Allow", "group:buyers", "reports.view"))
    buyer = as_principal("user:bo", "group:buyers")
    assert [r["name"] for r in buyer.get("/reports").json["reports"]] == ["low-stock", "valuation"]
    nobody = as_principal("user:nobody")
    assert nobody.get("/reports").json == {"reports": []}


def test_a_superuser_sees_everything_without_reading_acls(
    denied_wh2: Any, boss: Any, sql_counter: Any
) -> None:
    acl(boss, "/locations/WH2", ("Deny", "group:admins", "stock.view"))
    with sql_counter() as counter:
        body = boss.get("/stock/A-1").json
        listed = totals(boss)
        codes = [loc["code"] for loc in boss.get("/locations").json["items"]]
    assert [row["location"] for row in body["locations"]] == ["WH1", "WH2"]
    assert listed["A-1"] == (12, 13, 1) and codes == ["WH1", "WH2"]
    # no Deny takes anything from a superuser, so no ACL is read at all
    assert not [s for s in counter.statements if "acl_" in s], counter.statements
