"""Stock's pages in the admin console, and stock without the console."""

from __future__ import annotations

import re
from typing import Any

import pytest

# Signing in (the ``console`` fixture) and forms come from the console's
# pytest plugin: these tests are about stock's pages in it.
csrf_of = pytest.importorskip("plinth_admin.testing").csrf_of


@pytest.fixture
def stocked(testapp: Any, admin: Any) -> Any:
    for code in ("WH1", "WH2"):
        testapp.put_json(f"/locations/{code}", {"name": f"Store {code}"}, headers=admin)
    testapp.put_json("/stock/A-1", {"name": "Anchor bolt"}, headers=admin)
    testapp.post_json(
        "/locations/WH1/A-1/movements",
        {"kind": "receipt", "quantity": 12},
        headers=admin,
        status=201,
    )
    return admin


def move(app: Any, fields: dict[str, str], status: int = 303) -> Any:
    page = app.get("/admin/locations/WH1")
    return app.post(
        "/admin/locations/WH1/@@panel",
        {"csrf_token": csrf_of(page), "panel": "stock.location", **fields},
        status=status,
    )


def on_hand(testapp: Any, admin: Any) -> int:
    return testapp.get("/locations/WH1/A-1", headers=admin).json["on_hand"]


def test_item_page_shows_the_item_and_its_levels(
    stocked: Any, make_user: Any, console: Any
) -> None:
    make_user("root", "admins")
    page = console("root").get("/admin/stock/A-1")
    assert "Anchor bolt" in page.text
    assert re.search(r">WH1</a></td><td class=\"num\">12</td>", page.text)


def test_location_page_records_a_movement(
    stocked: Any, make_user: Any, console: Any, testapp: Any
) -> None:
    make_user("root", "admins")
    app = console("root")
    assert "Record a movement" in app.get("/admin/locations/WH1").text
    move(app, {"sku": "A-1", "kind": "issue", "quantity": "5", "reference": "SO-1"})
    assert on_hand(testapp, stocked) == 7
    ledger = testapp.get("/locations/WH1/A-1/movements", headers=stocked).json["items"]
    assert ledger[0]["kind"] == "issue" and ledger[0]["reference"] == "SO-1"


@pytest.mark.parametrize(
    ("fields", "status", "message"),
    [
        ({"sku": "A-1", "kind": "issue", "quantity": "50"}, 409, "available"),
        ({"sku": "A-1", "kind": "issue", "quantity": "-1"}, 400, "not valid"),
        ({"sku": "A-1", "kind": "issue", "quantity": "many"}, 400, "whole number"),
        ({"sku": "A-1", "kind": "adjustment", "quantity": "-2"}, 400, "not valid"),
        ({"sku": "A-1", "kind": "theft", "quantity": "1"}, 400, "receipt, issue or adjustment"),
        ({"sku": "NOPE", "kind": "receipt", "quantity": "1"}, 404, "no item"),
        ({"sku": "bad sku!", "kind": "receipt", "quantity": "1"}, 400, "not a SKU"),
    ],
)
def test_bad_movements_change_nothing(
    stocked: Any,
    make_user: Any,
    console: Any,
    testapp: Any,
    fields: dict[str, str],
    status: int,
    message: str,
) -> None:
    make_user("root", "admins")
    page = move(console("root"), fields, status=status)
    assert message in page.text
    assert on_hand(testapp, stocked) == 12


def test_movement_form_needs_the_apis_permission(
    stocked: Any, make_user: Any, console: Any, testapp: Any
) -> None:
    make_user("rita", "receivers")
    testapp.put_json(
        "/locations/WH1/@@acl",
        {
            "entries": [
                {"action": "Allow", "principal": "group:receivers", "permission": "stock.view"},
                {"action": "Allow", "principal": "group:receivers", "permission": "stock.receive"},
            ]
        },
        headers=stocked,
    )
    app = console("rita")
    move(app, {"sku": "A-1", "kind": "issue", "quantity": "1"}, status=403)
    move(app, {"sku": "A-1", "kind": "receipt", "quantity": "3"})
    assert on_hand(testapp, stocked) == 15


def test_stock_works_without_the_admin_console(plinth_settings: Any) -> None:
    from webtest import TestApp

    from plinth.api import make_app

    app = make_app({**plinth_settings, "plinth.plugins": "auth stock reporting"})
    assert "admin.panels" not in app.registry
    TestApp(app).get("/admin/", status=401)
