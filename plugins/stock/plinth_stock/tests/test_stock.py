"""Functional tests of the stock plugin: real HTTP through WebTest, real database."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from .helpers import (
    assert_error,
    level,
    move,
    movements,
    put_item,
    put_location,
    reserve,
    snapshot,
    stocked,
)

# Items ------------------------------------------------------------------------


def test_put_item_creates_then_updates(boss: Any) -> None:
    created = put_item(boss, "A-1", reorder_point=5, unit="box")
    assert created.status_int == 201
    assert created.json == {
        "sku": "A-1",
        "name": "Item A-1",
        "unit": "box",
        "reorder_point": 5,
        "unit_cost": "0.0000",
        "active": True,
    }
    assert created.headers["Location"].rstrip("/").endswith("/stock/A-1")
    first_etag = created.headers["ETag"]
    assert first_etag

    updated = boss.put_json("/stock/A-1", {"name": "Anchor bolt"}, status=200)
    assert updated.json["name"] == "Anchor bolt"
    # fields not sent are kept
    assert updated.json["unit"] == "box" and updated.json["reorder_point"] == 5
    assert updated.headers["ETag"] != first_etag
    got = boss.get("/stock/A-1")
    assert got.json["name"] == "Anchor bolt"
    assert got.headers["ETag"] == updated.headers["ETag"]
    changed = boss.put_json(
        "/stock/A-1",
        {"name": "Anchor bolt", "unit_cost": "3.25", "reorder_point": 0, "active": False},
        status=200,
    )
    assert (changed.json["unit_cost"], changed.json["reorder_point"], changed.json["active"]) == (
        "3.2500",
        0,
        False,
    )
    kept = boss.put_json("/stock/A-1", {"name": "Anchor bolt M8"}, status=200).json
    assert (kept["unit_cost"], kept["active"]) == ("3.2500", False)
    assert boss.get("/stock/A-1").json["unit_cost"] == "3.2500"


def test_put_item_if_match(boss: Any, plinth_engine: Any) -> None:
    first = put_item(boss, "A-1")
    stale = first.headers["ETag"]
    current = boss.put_json(
        "/stock/A-1", {"name": "Second"}, headers={"If-Match": stale}, status=200
    ).headers["ETag"]
    before = snapshot(plinth_engine)
    response = boss.put_json(
        "/stock/A-1", {"name": "Lost update"}, headers={"If-Match": stale}, status=412
    )
    assert assert_error(response, 412, "precondition_failed")["details"]["etag"] == current.strip(
        '"'
    )
    assert snapshot(plinth_engine) == before
    assert boss.get("/stock/A-1").json["name"] == "Second"
    # the current ETag (and a list that contains it) is accepted
    boss.put_json(
        "/stock/A-1", {"name": "Third"}, headers={"If-Match": f'"x", {current}'}, status=200
    )
    assert boss.get("/stock/A-1").json["name"] == "Third"
    # If-Match on an item that does not exist creates nothing
    boss.put_json("/stock/NEW-1", {"name": "New"}, headers={"If-Match": current}, status=412)
    boss.get("/stock/NEW-1", status=404)


@pytest.mark.parametrize(
    ("sent", "stored"),
    [
        ("12.5", "12.5000"),
        (12.5, "12.5000"),
        ("0.0001", "0.0001"),
        ("0.1", "0.1000"),
        ("1234567.8901", "1234567.8901"),
        ("9999999999.9999", "9999999999.9999"),
        (7, "7.0000"),
        ("0", "0.0000"),
    ],
)
def test_unit_cost_is_exact(boss: Any, sent: Any, stored: str) -> None:
    assert put_item(boss, "A-1", unit_cost=sent).json["unit_cost"] == stored
    assert boss.get("/stock/A-1").json["unit_cost"] == stored
    assert boss.get("/stock").json["items"][0]["unit_cost"] == stored


def test_get_item_contract_shape(boss: Any) -> None:
    stocked(boss, "A-1", "WH1", 10)
    stocked(boss, "A-1", "WH2", 4)
    put_location(boss, "WH3")  # no level there: not listed
    reserve(boss, "WH1", "A-1", 3)
    body = boss.get("/stock/A-1").json
    assert {"sku", "stock", "on_hand", "reserved", "locations"} <= set(body)
    assert body["sku"] == "A-1"
    assert body["locations"] == [
        {"location": "WH1", "on_hand": 10, "reserved": 3, "available": 7},
        {"location": "WH2", "on_hand": 4, "reserved": 0, "available": 4},
    ]
    assert body["on_hand"] == 14
    assert body["reserved"] == 3
    assert body["stock"] == 11  # available over all locations


def test_item_without_stock_has_no_levels(boss: Any) -> None:
    put_item(boss, "B-2")
    body = boss.get("/stock/B-2").json
    assert (body["stock"], body["on_hand"], body["reserved"], body["locations"]) == (0, 0, 0, [])


def test_missing_item_is_404_when_authorized(boss: Any) -> None:
    assert_error(boss.get("/stock/NOPE-1", status=404), 404, "not_found")


def test_no_credentials_is_401_whether_or_not_the_item_exists(boss: Any, testapp: Any) -> None:
    stocked(boss, "A-1")
    for url in (
        "/stock/A-1",
        "/stock/NOPE-1",
        "/stock",
        "/locations/WH1",
        "/locations/WH1/A-1",
        "/locations/WH1/A-1/movements",
        "/locations/NOPE",
        "/reservations/" + "0" * 32,
    ):
        response = testapp.get(url, status=401)
        assert_error(response, 401, "unauthorized")
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    # a wrong token is no better than none
    testapp.get("/stock/A-1", headers={"Authorization": "Bearer plinth_nope"}, status=401)
    # writes too, including those whose permission depends on the body
    testapp.post_json(
        "/locations/WH1/A-1/movements", {"kind": "receipt", "quantity": 1}, status=401
    )
    testapp.post_json(
        "/stock/A-1/transfers", {"from": "WH1", "to": "WH2", "quantity": 1}, status=401
    )
    testapp.put_json("/stock/A-1", {"name": "x"}, status=401)
    assert level(boss, "A-1", "WH1")["on_hand"] == 10


def test_user_without_stock_view_gets_403(
    boss: Any, testapp: Any, make_user: Any, login: Any
) -> None:
    stocked(boss, "A-1")
    make_user("outsider")
    headers = login("outsider")
    for url in (
        "/stock/A-1",
        "/stock/NOPE-1",
        "/stock",
        "/locations",
        "/locations/WH1",
        "/locations/WH1/A-1/movements",
    ):
        assert_error(testapp.get(url, headers=headers, status=403), 403, "forbidden")
    testapp.put_json("/stock/A-1", {"name": "x"}, headers=headers, status=403)
    assert boss.get("/stock/A-1").json["name"] == "Item A-1"


# The catalog: pagination and filters ----------------------------------------------


def test_list_items_paginates_in_sku_order(boss: Any) -> None:
    skus = ["E-5", "A-1", "C-3", "B-2", "D-4"]
    for sku in skus:
        put_item(boss, sku)
    seen, cursor, pages = [], None, 0
    while True:
        url = "/stock?limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = boss.get(url).json
        assert len(page["items"]) <= 2
        seen += [item["sku"] for item in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(skus)
    assert pages == 3
    assert boss.get("/stock?limit=5").json["next_cursor"] is None


@pytest.mark.parametrize(
    "query",
    [
        "limit=0",
        "limit=501",
        "limit=abc",
        "cursor=!!!",
        "cursor=bm90LWEtbGlzdA",
        "below_reorder_point=maybe",
    ],
)
def test_list_items_rejects_bad_query(boss: Any, query: str) -> None:
    assert_error(boss.get(f"/stock?{query}", status=400), 400)


def test_list_items_totals_and_filters(boss: Any) -> None:
    put_location(boss, "WH1")
    put_location(boss, "WH2")
    put_item(boss, "A-1", name="Anchor bolt M8", reorder_point=5)
    put_item(boss, "B-2", name="Bracket, steel", reorder_point=10)
    put_item(boss, "C-3", name="Cable tie", reorder_point=8)
    put_item(boss, "X_9", name="Odd one")
    move(boss, "WH1", "A-1", "receipt", 12)
    move(boss, "WH2", "A-1", "receipt", 3)
    move(boss, "WH2", "C-3", "receipt", 10)
    move(boss, "WH1", "X_9", "receipt", 1)
    reserve(boss, "WH2", "C-3", 4)  # available 6: below its reorder point of 8

    rows = {r["sku"]: r for r in boss.get("/stock").json["items"]}
    assert (rows["A-1"]["on_hand"], rows["A-1"]["reserved"], rows["A-1"]["stock"]) == (15, 0, 15)
    assert (rows["C-3"]["on_hand"], rows["C-3"]["reserved"], rows["C-3"]["stock"]) == (10, 4, 6)
    assert (rows["B-2"]["on_hand"], rows["B-2"]["stock"]) == (0, 0)

    def skus(query: str) -> list[str]:
        return [r["sku"] for r in boss.get(f"/stock?{query}").json["items"]]

    assert skus("location=WH2") == ["A-1", "C-3"]
    at_wh1 = boss.get("/stock?location=WH1").json["items"]
    assert [(r["sku"], r["on_hand"]) for r in at_wh1] == [("A-1", 12), ("X_9", 1)]
    assert skus("location=NOWHERE") == []
    assert skus("below_reorder_point=true") == ["B-2", "C-3"]
    assert skus("below_reorder_point=false") == ["A-1", "B-2", "C-3", "X_9"]
    assert skus("q=bracket") == ["B-2"]
    assert skus("q=a-1") == ["A-1"]
    assert skus("q=STEEL") == ["B-2"]
    # "_" and "%" are searched for, not wildcards
    assert skus("q=_") == ["X_9"]
    assert skus("q=%25") == []
    assert skus("q=tie&below_reorder_point=true") == ["C-3"]
    assert skus("location=WH2&limit=1") == ["A-1"]


# Locations ----------------------------------------------------------------------


def test_locations_put_get_list(boss: Any, plinth_engine: Any) -> None:
    created = put_location(boss, "WH1", "Main")
    assert created.json == {"code": "WH1", "name": "Main"}
    etag = created.headers["ETag"]
    updated = boss.put_json(
        "/locations/WH1", {"name": "Main warehouse"}, headers={"If-Match": etag}, status=200
    )
    assert updated.headers["ETag"] != etag
    before = snapshot(plinth_engine)
    assert_error(
        boss.put_json("/locations/WH1", {"name": "Stale"}, headers={"If-Match": etag}, status=412),
        412,
        "precondition_failed",
    )
    assert snapshot(plinth_engine) == before
    got = boss.get("/locations/WH1")
    assert got.json["name"] == "Main warehouse"
    assert got.headers["ETag"] == updated.headers["ETag"]

    for code in ("WH3", "WH2", "AA"):
        put_location(boss, code)
    first = boss.get("/locations?limit=3").json
    assert [r["code"] for r in first["items"]] == ["AA", "WH1", "WH2"]
    rest = boss.get(f"/locations?limit=3&cursor={first['next_cursor']}").json
    assert [r["code"] for r in rest["items"]] == ["WH3"]
    assert rest["next_cursor"] is None
    assert_error(boss.get("/locations/NOPE", status=404), 404, "not_found")


def test_location_shows_its_levels_paginated(boss: Any) -> None:
    stocked(boss, "B-2", "WH1", 7)
    stocked(boss, "A-1", "WH1", 5)
    stocked(boss, "C-3", "WH2", 1)
    reserve(boss, "WH1", "A-1", 2)
    body = boss.get("/locations/WH1").json
    assert body["code"] == "WH1"
    assert body["levels"]["items"] == [
        {"sku": "A-1", "name": "Item A-1", "on_hand": 5, "reserved": 2, "available": 3},
        {"sku": "B-2", "name": "Item B-2", "on_hand": 7, "reserved": 0, "available": 7},
    ]
    page = boss.get("/locations/WH1?limit=1").json["levels"]
    assert [r["sku"] for r in page["items"]] == ["A-1"]
    rest = boss.get(f"/locations/WH1?limit=1&cursor={page['next_cursor']}").json["levels"]
    assert [r["sku"] for r in rest["items"]] == ["B-2"]
    assert rest["next_cursor"] is None


# Movements --------------------------------------------------------------------


def test_receipt_issue_adjustment(boss: Any) -> None:
    stocked(boss, "A-1", "WH1", 0)
    receipt = move(boss, "WH1", "A-1", "receipt", 10, reference="PO-1").json
    assert receipt["movement"]["kind"] == "receipt"
    assert receipt["movement"]["quantity"] == 10
    assert receipt["movement"]["reference"] == "PO-1"
    assert receipt["movement"]["actor"] == "user:boss"
    assert receipt["level"] == {
        "sku": "A-1",
        "location": "WH1",
        "on_hand": 10,
        "reserved": 0,
        "available": 10,
    }
    issue = move(boss, "WH1", "A-1", "issue", 4).json
    assert issue["movement"]["quantity"] == -4  # the ledger records the signed change
    assert issue["level"]["on_hand"] == 6
    down = move(boss, "WH1", "A-1", "adjustment", -2, reason="breakage").json
    assert down["movement"]["reason"] == "breakage"
    assert down["level"]["on_hand"] == 4
    up = move(boss, "WH1", "A-1", "adjustment", 3, reason="found in aisle 4").json
    assert up["level"]["on_hand"] == 7
    assert level(boss, "A-1", "WH1") == {"on_hand": 7, "reserved": 0, "available": 7}
    assert boss.get("/locations/WH1/A-1").json == {
        "sku": "A-1",
        "location": "WH1",
        "on_hand": 7,
        "reserved": 0,
        "available": 7,
    }
    ledger = movements(boss, "WH1", "A-1")
    assert sum(m["quantity"] for m in ledger) == 7
    # issuing everything that is available is allowed
    assert move(boss, "WH1", "A-1", "issue", 7).json["level"]["on_hand"] == 0


@pytest.mark.parametrize(
    ("kind", "quantity", "extra"),
    [
        ("issue", 11, {}),
        ("issue", 8, {}),  # 10 on hand, but 3 are reserved
        ("adjustment", -8, {"reason": "count"}),
    ],
)
def test_movement_that_would_make_available_negative_is_409(
    boss: Any, plinth_engine: Any, kind: str, quantity: int, extra: dict[str, str]
) -> None:
    stocked(boss, "A-1", "WH1", 10)
    reserve(boss, "WH1", "A-1", 3)
    before = snapshot(plinth_engine)
    ledger = movements(boss, "WH1", "A-1")
    response = move(boss, "WH1", "A-1", kind, quantity, status=409, **extra)
    body = assert_error(response, 409, "insufficient_stock")
    assert body["details"] == {
        "sku": "A-1",
        "location": "WH1",
        "requested": abs(quantity),
        "available": 7,
    }
    assert snapshot(plinth_engine) == before
    assert movements(boss, "WH1", "A-1") == ledger
    assert level(boss, "A-1", "WH1") == {"on_hand": 10, "reserved": 3, "available": 7}


def test_issue_at_a_location_without_a_level_is_409(boss: Any, plinth_engine: Any) -> None:
    stocked(boss, "A-1", "WH1", 5)
    put_location(boss, "WH2")
    before = snapshot(plinth_engine)
    body = assert_error(move(boss, "WH2", "A-1", "issue", 1, status=409), 409, "insufficient_stock")
    assert body["details"]["available"] == 0
    assert snapshot(plinth_engine) == before


def test_receipt_beyond_the_largest_quantity_is_refused(boss: Any, plinth_engine: Any) -> None:
    stocked(boss, "A-1", "WH1", 2**31 - 1)
    before = snapshot(plinth_engine)
    response = move(boss, "WH1", "A-1", "receipt", 1, status=409)
    assert_error(response, 409)
    assert snapshot(plinth_engine) == before
    assert level(boss, "A-1", "WH1")["on_hand"] == 2**31 - 1


@pytest.mark.parametrize(
    "url", ["/locations/NOPE/A-1/movements", "/locations/WH1/NOPE-1/movements"]
)
def test_movement_for_unknown_item_or_location_is_404(
    boss: Any, plinth_engine: Any, url: str
) -> None:
    stocked(boss, "A-1", "WH1", 1)
    before = snapshot(plinth_engine)
    response = boss.post_json(url, {"kind": "receipt", "quantity": 1}, status=404)
    assert_error(response, 404, "not_found")
    assert snapshot(plinth_engine) == before


def test_movements_newest_first_and_paginated(boss: Any) -> None:
    stocked(boss, "A-1", "WH1", 0)
    for n in range(1, 6):
        move(boss, "WH1", "A-1", "receipt", n, reference=f"R{n}")
    stocked(boss, "A-1", "WH2", 9)  # another level's movements are not listed
    page = boss.get("/locations/WH1/A-1/movements?limit=2").json
    assert [m["reference"] for m in page["items"]] == ["R5", "R4"]
    page2 = boss.get(f"/locations/WH1/A-1/movements?limit=2&cursor={page['next_cursor']}").json
    assert [m["reference"] for m in page2["items"]] == ["R3", "R2"]
    page3 = boss.get(f"/locations/WH1/A-1/movements?limit=2&cursor={page2['next_cursor']}").json
    assert [m["reference"] for m in page3["items"]] == ["R1"]
    assert page3["next_cursor"] is None
    everything = movements(boss, "WH1", "A-1")
    assert [m["id"] for m in everything] == sorted((m["id"] for m in everything), reverse=True)
    assert {m["location"] for m in everything} == {"WH1"}
    assert_error(boss.get("/locations/WH1/A-1/movements?cursor=WyJ4Il0", status=400), 400)


# Reservations -----------------------------------------------------------------


def test_reservation_reduces_available(boss: Any, plinth_registry: Any) -> None:
    stocked(boss, "A-1", "WH1", 10)
    response = reserve(boss, "WH1", "A-1", 4, reference="SO-7")
    body = response.json
    assert len(body["id"]) == 32 and int(body["id"], 16) >= 0
    assert (body["sku"], body["location"], body["quantity"], body["reference"], body["status"]) == (
        "A-1",
        "WH1",
        4,
        "SO-7",
        "active",
    )
    assert body["level"] == {
        "sku": "A-1",
        "location": "WH1",
        "on_hand": 10,
        "reserved": 4,
        "available": 6,
    }
    assert response.headers["Location"].endswith(f"/reservations/{body['id']}")
    ttl = datetime.fromisoformat(body["expires_at"]) - datetime.fromisoformat(body["created_at"])
    assert ttl == timedelta(seconds=plinth_registry.settings["stock.reservation_ttl"])
    assert level(boss, "A-1", "WH1") == {"on_hand": 10, "reserved": 4, "available": 6}
    got = boss.get(f"/reservations/{body['id']}").json
    assert got["status"] == "active" and got["quantity"] == 4 and got["sku"] == "A-1"
    short = reserve(boss, "WH1", "A-1", 1, ttl_seconds=60).json
    ttl = datetime.fromisoformat(short["expires_at"]) - datetime.fromisoformat(short["created_at"])
    assert ttl == timedelta(seconds=60)
    # a reservation does not change on hand, and is not a movement
    assert [m["kind"] for m in movements(boss, "WH1", "A-1")] == ["receipt"]


def test_reservation_beyond_available_is_409(boss: Any, plinth_engine: Any) -> None:
    stocked(boss, "A-1", "WH1", 5)
    reserve(boss, "WH1", "A-1", 3)
    before = snapshot(plinth_engine)
    body = assert_error(reserve(boss, "WH1", "A-1", 3, status=409), 409, "insufficient_stock")
    assert body["details"]["available"] == 2 and body["details"]["requested"] == 3
    assert snapshot(plinth_engine) == before
    reserve(boss, "WH1", "A-1", 2)  # exactly what is left
    assert level(boss, "A-1", "WH1")["available"] == 0


def test_confirm_turns_a_reservation_into_an_issue(boss: Any) -> None:
    stocked(boss, "A-1", "WH1", 10)
    rid = reserve(boss, "WH1", "A-1", 4, reference="SO-1").json["id"]
    confirmed = boss.post(f"/reservations/{rid}/confirm", status=200).json
    assert confirmed["status"] == "confirmed"
    assert confirmed["movement"]["kind"] == "reservation_confirmed"
    assert confirmed["movement"]["quantity"] == -4
    assert confirmed["movement"]["reservation_id"] == rid
    assert level(boss, "A-1", "WH1") == {"on_hand": 6, "reserved": 0, "available": 6}
    ledger = movements(boss, "WH1", "A-1")
    assert ledger[0]["kind"] == "reservation_confirmed" and ledger[0]["reference"] == "SO-1"
    assert sum(m["quantity"] for m in ledger) == 6
    assert boss.get(f"/reservations/{rid}").json["status"] == "confirmed"


def test_release_frees_the_reservation(boss: Any) -> None:
    stocked(boss, "A-1", "WH1", 10)
    rid = reserve(boss, "WH1", "A-1", 10).json["id"]
    assert level(boss, "A-1", "WH1")["available"] == 0
    released = boss.post(f"/reservations/{rid}/release", status=200).json
    assert released["status"] == "released"
    assert level(boss, "A-1", "WH1") == {"on_hand": 10, "reserved": 0, "available": 10}
    assert [m["kind"] for m in movements(boss, "WH1", "A-1")] == ["receipt"]
    assert boss.get(f"/reservations/{rid}").json["status"] == "released"


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("confirm", "confirm"),
        ("confirm", "release"),
        ("release", "release"),
        ("release", "confirm"),
    ],
)
def test_finished_reservation_cannot_be_finished_again(
    boss: Any, plinth_engine: Any, first: str, second: str
) -> None:
    stocked(boss, "A-1", "WH1", 10)
    rid = reserve(boss, "WH1", "A-1", 4).json["id"]
    boss.post(f"/reservations/{rid}/{first}", status=200)
    before = snapshot(plinth_engine)
    body = assert_error(boss.post(f"/reservations/{rid}/{second}", status=409), 409)
    status = "confirmed" if first == "confirm" else "released"
    assert body["error"] == f"reservation_{status}"
    assert body["details"]["status"] == status
    assert snapshot(plinth_engine) == before


def test_expired_reservation_stops_counting_at_once(boss: Any, clock: Any) -> None:
    stocked(boss, "A-1", "WH1", 10)
    rid = reserve(boss, "WH1", "A-1", 8, ttl_seconds=60).json["id"]
    keep = reserve(boss, "WH1", "A-1", 1, ttl_seconds=3600).json["id"]
    clock.advance(seconds=61)
    # every read shows the expired quantity as available again, at once
    assert level(boss, "A-1", "WH1") == {"on_hand": 10, "reserved": 1, "available": 9}
    assert boss.get("/stock/A-1").json["stock"] == 9
    assert boss.get("/stock").json["items"][0]["stock"] == 9
    assert boss.get("/locations/WH1/A-1").json["available"] == 9
    assert boss.get("/locations/WH1").json["levels"]["items"][0]["available"] == 9
    assert boss.get("/stock?below_reorder_point=true").json["items"] == []
    assert boss.get(f"/reservations/{rid}").json["status"] == "expired"
    assert boss.get(f"/reservations/{keep}").json["status"] == "active"


@pytest.mark.parametrize("use", ["reserve", "issue", "adjustment", "transfer"])
def test_expired_reservation_can_be_used_at_once(boss: Any, clock: Any, use: str) -> None:
    stocked(boss, "A-1", "WH1", 10)
    put_location(boss, "WH2")
    rid = reserve(boss, "WH1", "A-1", 8, ttl_seconds=60).json["id"]
    reserve(boss, "WH1", "A-1", 1, ttl_seconds=3600)
    clock.advance(seconds=61)
    # the first request that needs the freed units gets them: 9 are available
    if use == "reserve":
        reserve(boss, "WH1", "A-1", 9)
        expected = {"on_hand": 10, "reserved": 10, "available": 0}
    elif use == "issue":
        move(boss, "WH1", "A-1", "issue", 9)
        expected = {"on_hand": 1, "reserved": 1, "available": 0}
    elif use == "adjustment":
        move(boss, "WH1", "A-1", "adjustment", -9, reason="count")
        expected = {"on_hand": 1, "reserved": 1, "available": 0}
    else:
        boss.post_json(
            "/stock/A-1/transfers", {"from": "WH1", "to": "WH2", "quantity": 9}, status=201
        )
        expected = {"on_hand": 1, "reserved": 1, "available": 0}
    assert level(boss, "A-1", "WH1") == expected
    assert boss.get(f"/reservations/{rid}").json["status"] == "expired"
    # one unit more than what is left is refused
    reserve(boss, "WH1", "A-1", 1, status=409)


@pytest.mark.parametrize("use", ["receipt", "issue", "adjustment", "reserve", "transfer"])
def test_a_write_answers_the_level_a_read_shows(boss: Any, clock: Any, use: str) -> None:
    """The level in a write's answer is the one a GET shows right after: only
    that level's own expired reservations stop counting, not another's."""
    stocked(boss, "A-1", "WH1", 10)
    stocked(boss, "B-1", "WH1", 10)
    stocked(boss, "A-1", "WH2", 10)
    reserve(boss, "WH1", "B-1", 5, ttl_seconds=60)  # another item, same location
    reserve(boss, "WH2", "A-1", 3, ttl_seconds=60)  # same item, another location
    reserve(boss, "WH1", "A-1", 2, ttl_seconds=60)
    reserve(boss, "WH1", "A-1", 1, ttl_seconds=3600)
    clock.advance(seconds=61)
    if use == "reserve":
        answered = [reserve(boss, "WH1", "A-1", 1).json["level"]]
    elif use == "transfer":
        body = {"from": "WH1", "to": "WH2", "quantity": 1}
        answered = boss.post_json("/stock/A-1/transfers", body, status=201).json["levels"]
    else:
        quantity = -1 if use == "adjustment" else 1
        answered = [move(boss, "WH1", "A-1", use, quantity, reason="count").json["level"]]
    for shown in answered:
        assert shown == boss.get(f"/locations/{shown['location']}/A-1").json


@pytest.mark.parametrize("action", ["confirm", "release"])
def test_acting_on_an_expired_reservation_is_409(
    boss: Any, plinth_engine: Any, clock: Any, action: str
) -> None:
    stocked(boss, "A-1", "WH1", 10)
    rid = reserve(boss, "WH1", "A-1", 4, ttl_seconds=60).json["id"]
    clock.advance(seconds=61)
    before = snapshot(plinth_engine)
    body = assert_error(
        boss.post(f"/reservations/{rid}/{action}", status=409), 409, "reservation_expired"
    )
    assert body["details"]["status"] == "expired"
    assert snapshot(plinth_engine) == before
    assert level(boss, "A-1", "WH1") == {"on_hand": 10, "reserved": 0, "available": 10}


def test_unknown_reservation_is_404(boss: Any) -> None:
    stocked(boss, "A-1", "WH1", 1)
    for url in ("/reservations/" + "a" * 32, "/reservations/not-an-id"):
        assert_error(boss.get(url, status=404), 404, "not_found")
    boss.post("/reservations/" + "a" * 32 + "/confirm", status=404)
    boss.post("/reservations/" + "a" * 32 + "/release", status=404)


def test_reservation_for_unknown_item_or_location_is_404(boss: Any, plinth_engine: Any) -> None:
    stocked(boss, "A-1", "WH1", 5)
    before = snapshot(plinth_engine)
    assert_error(reserve(boss, "NOPE", "A-1", 1, status=404), 404, "not_found")
    assert_error(reserve(boss, "WH1", "NOPE-1", 1, status=404), 404, "not_found")
    assert snapshot(plinth_engine) == before


# Transfers ----------------------------------------------------------------------


def test_transfer_moves_stock_as_a_pair(boss: Any) -> None:
    stocked(boss, "A-1", "WH1", 10)
    put_location(boss, "WH2")
    body = boss.post_json(
        "/stock/A-1/transfers",
        {"from": "WH1", "to": "WH2", "quantity": 4, "reference": "T-1"},
        status=201,
    ).json
    assert (body["from"], body["to"], body["quantity"]) == ("WH1", "WH2", 4)
    out, into = body["movements"]
    assert (out["location"], out["kind"], out["quantity"]) == ("WH1", "transfer_out", -4)
    assert (into["location"], into["kind"], into["quantity"]) == ("WH2", "transfer_in", 4)
    assert out["reference"] == into["reference"] == "T-1"
    got = boss.get("/stock/A-1").json
    assert got["on_hand"] == 10  # nothing created or lost
    assert got["locations"] == [
        {"location": "WH1", "on_hand": 6, "reserved": 0, "available": 6},
        {"location": "WH2", "on_hand": 4, "reserved": 0, "available": 4},
    ]
    assert [m["kind"] for m in movements(boss, "WH2", "A-1")] == ["transfer_in"]
    assert movements(boss, "WH1", "A-1")[0]["kind"] == "transfer_out"


def test_transfer_without_enough_at_the_source_is_409(boss: Any, plinth_engine: Any) -> None:
    stocked(boss, "A-1", "WH1", 5)
    stocked(boss, "A-1", "WH2", 1)
    reserve(boss, "WH1", "A-1", 2)
    before = snapshot(plinth_engine)
    response = boss.post_json(
        "/stock/A-1/transfers", {"from": "WH1", "to": "WH2", "quantity": 4}, status=409
    )
    body = assert_error(response, 409, "insufficient_stock")
    assert body["details"]["available"] == 3
    # neither half happened
    assert snapshot(plinth_engine) == before
    assert level(boss, "A-1", "WH2")["on_hand"] == 1


def test_transfer_to_the_same_location_is_400(boss: Any, plinth_engine: Any) -> None:
    stocked(boss, "A-1", "WH1", 5)
    before = snapshot(plinth_engine)
    assert_error(
        boss.post_json(
            "/stock/A-1/transfers", {"from": "WH1", "to": "WH1", "quantity": 1}, status=400
        ),
        400,
    )
    assert snapshot(plinth_engine) == before


@pytest.mark.parametrize(
    ("url", "body"),
    [
        ("/stock/A-1/transfers", {"from": "WH1", "to": "NOPE", "quantity": 1}),
        ("/stock/A-1/transfers", {"from": "NOPE", "to": "WH1", "quantity": 1}),
        ("/stock/NOPE-1/transfers", {"from": "WH1", "to": "WH2", "quantity": 1}),
    ],
)
def test_transfer_with_unknown_location_or_item_is_404(
    boss: Any, plinth_engine: Any, url: str, body: dict[str, Any]
) -> None:
    stocked(boss, "A-1", "WH1", 5)
    put_location(boss, "WH2")
    before = snapshot(plinth_engine)
    assert_error(boss.post_json(url, body, status=404), 404, "not_found")
    assert snapshot(plinth_engine) == before


# Idempotency-Key ----------------------------------------------------------------


def test_idempotent_movement_replay(boss: Any, plinth_engine: Any) -> None:
    stocked(boss, "A-1", "WH1", 0)
    key = {"Idempotency-Key": "receipt-0001"}
    first = boss.post_json(
        "/locations/WH1/A-1/movements", {"kind": "receipt", "quantity": 5}, headers=key, status=201
    )
    assert "Idempotent-Replayed" not in first.headers
    replay = boss.post_json(
        "/locations/WH1/A-1/movements", {"kind": "receipt", "quantity": 5}, headers=key, status=201
    )
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert replay.body == first.body
    assert level(boss, "A-1", "WH1")["on_hand"] == 5
    assert len(movements(boss, "WH1", "A-1")) == 1


def test_idempotent_reservation_and_confirm_replay(boss: Any) -> None:
    stocked(boss, "A-1", "WH1", 10)
    key = {"Idempotency-Key": "order-77"}
    first = reserve(boss, "WH1", "A-1", 3, headers=key)
    replay = boss.post_json(
        "/locations/WH1/A-1/reservations",
        {"quantity": 3, "reference": "order-1"},
        headers=key,
        status=201,
    )
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert replay.json == first.json
    assert replay.headers["Location"] == first.headers["Location"]
    assert level(boss, "A-1", "WH1")["reserved"] == 3
    rid = first.json["id"]
    confirm_key = {"Idempotency-Key": "confirm-77"}
    confirmed = boss.post(f"/reservations/{rid}/confirm", headers=confirm_key, status=200)
    again = boss.post(f"/reservations/{rid}/confirm", headers=confirm_key, status=200)
    assert again.body == confirmed.body
    assert level(boss, "A-1", "WH1") == {"on_hand": 7, "reserved": 0, "available": 7}


def test_idempotency_key_reused_with_another_body_is_422(boss: Any, plinth_engine: Any) -> None:
    stocked(boss, "A-1", "WH1", 10)
    key = {"Idempotency-Key": "k-1"}
    move(boss, "WH1", "A-1", "issue", 1, headers=key)
    before = snapshot(plinth_engine)
    response = move(boss, "WH1", "A-1", "issue", 2, headers=key, status=422)
    assert_error(response, 422, "idempotency_key_reused")
    # another URL with the same key is another request too
    response = move(boss, "WH1", "B-2", "issue", 1, headers=key, status=422)
    assert snapshot(plinth_engine) == before
    assert level(boss, "A-1", "WH1")["on_hand"] == 9


def test_idempotency_keys_are_scoped_per_caller(as_principal: Any, boss: Any) -> None:
    stocked(boss, "A-1", "WH1", 0)
    alice = as_principal("user:alice", "group:admins")
    bob = as_principal("user:bob", "group:admins")
    key = {"Idempotency-Key": "shared-key"}
    first = move(alice, "WH1", "A-1", "receipt", 2, headers=key)
    second = move(bob, "WH1", "A-1", "receipt", 2, headers=key)
    assert "Idempotent-Replayed" not in second.headers
    assert second.json["movement"]["id"] != first.json["movement"]["id"]
    assert level(boss, "A-1", "WH1")["on_hand"] == 4
    assert (
        move(alice, "WH1", "A-1", "receipt", 2, headers=key).headers["Idempotent-Replayed"]
        == "true"
    )
    assert level(boss, "A-1", "WH1")["on_hand"] == 4


def test_failed_request_does_not_burn_its_key(boss: Any) -> None:
    stocked(boss, "A-1", "WH1", 1)
    key = {"Idempotency-Key": "retry-me"}
    move(boss, "WH1", "A-1", "issue", 3, headers=key, status=409)
    move(boss, "WH1", "A-1", "receipt", 5)
    retried = move(boss, "WH1", "A-1", "issue", 3, headers=key, status=201)
    assert "Idempotent-Replayed" not in retried.headers
    assert level(boss, "A-1", "WH1")["on_hand"] == 3


def test_bad_idempotency_key_is_400(boss: Any, plinth_engine: Any) -> None:
    stocked(boss, "A-1", "WH1", 1)
    before = snapshot(plinth_engine)
    response = move(
        boss, "WH1", "A-1", "receipt", 1, headers={"Idempotency-Key": "k" * 201}, status=400
    )
    assert_error(response, 400, "invalid_idempotency_key")
    assert snapshot(plinth_engine) == before


# SQL budget ---------------------------------------------------------------------


def test_warm_authorized_get_item_costs_one_statement(
    boss: Any, testapp: Any, make_user: Any, login: Any, sql_counter: Any
) -> None:
    stocked(boss, "A-1", "WH1", 10)
    stocked(boss, "A-1", "WH2", 3)
    stocked(boss, "A-1", "WH3", 4)
    reserve(boss, "WH1", "A-1", 2)
    # not a superuser: the ACL is read and decides, and WH3 is hidden from vic
    boss.put_json(
        "/@@acl",
        {
            "entries": [
                {"action": "Allow", "principal": "group:viewers", "permission": "stock.view"}
            ]
        },
    )
    boss.put_json(
        "/locations/WH1/@@acl",
        {
            "entries": [
                {"action": "Allow", "principal": "group:pickers", "permission": "stock.view"}
            ]
        },
    )
    boss.put_json(
        "/locations/WH3/@@acl",
        {"entries": [{"action": "Deny", "principal": "group:viewers", "permission": "stock.view"}]},
    )
    viewer = login(make_user("vic", "viewers"))
    with sql_counter() as counter:  # cold: the token, the lineage, the locations' ACLs
        cold = testapp.get("/stock/A-1", headers=viewer).json
    statements = "\n---\n".join(counter.statements)
    assert len([s for s in counter.statements if "auth_tokens" in s]) == 2, statements  # + use
    assert len([s for s in counter.statements if "acl_" in s]) == 2, statements
    with sql_counter() as counter:
        body = testapp.get("/stock/A-1", headers=viewer).json
    statements = "\n---\n".join(counter.statements)
    # one statement: the item, its levels and the security version; the
    # visible locations are decided on the ACLs cached at that version
    assert counter.count == 1, statements
    assert "security_version" in statements and "stock_levels" in statements, statements
    assert body == cold and body["stock"] == 11
    assert [level["location"] for level in body["locations"]] == ["WH1", "WH2"]


def test_warm_authorized_writes_read_no_token_and_no_acl(
    boss: Any, testapp: Any, make_user: Any, login: Any, sql_counter: Any
) -> None:
    """A write's authorization comes from the caches while its transaction has
    not written: the security version is read with the place it writes at."""
    stocked(boss, "A-1", "WH1", 10)
    grants = ["stock.view", "stock.receive", "stock.issue", "stock.reserve"]
    boss.put_json(
        "/locations/@@acl",
        {
            "entries": [
                {"action": "Allow", "principal": "group:clerks", "permission": p} for p in grants
            ]
        },
    )
    clerk = login(make_user("cal", "clerks"))
    path = "/locations/WH1/A-1"
    writes = [
        ("movements", {"kind": "receipt", "quantity": 2}, ["stock_levels", "stock_movements"]),
        (
            "movements",
            {"kind": "issue", "quantity": 1},
            ["stock_reservations", "stock_levels", "stock_movements"],
        ),
        (
            "reservations",
            {"quantity": 1, "reference": "r"},
            ["stock_reservations", "stock_reservations", "stock_levels"],
        ),
    ]
    for view, body, _ in writes:  # warm: the token and the lineage are cached
        testapp.post_json(f"{path}/{view}", body, headers=clerk, status=201)
    for view, body, tables in writes:
        with sql_counter() as counter:
            testapp.post_json(f"{path}/{view}", body, headers=clerk, status=201)
        statements = counter.statements
        listing = "\n---\n".join(statements)
        # the version with the item and the location, then the write itself
        assert len(statements) == 1 + len(tables), listing
        assert "security_version" in statements[0] and "stock_locations" in statements[0]
        for statement, table in zip(statements[1:], tables, strict=True):
            assert table in statement.split("WHERE")[0], listing
        assert not [s for s in statements if "auth_tokens" in s or "acl_" in s], listing
