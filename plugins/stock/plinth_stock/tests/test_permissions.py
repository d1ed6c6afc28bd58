"""Per-location grants through the ACL API: who may receive, issue, adjust, reserve,
confirm, release and transfer where, and the explanation administrators see."""

from __future__ import annotations

from typing import Any

import pytest

from .helpers import assert_error, level, move, put_location, reserve, snapshot, stocked


def grant(boss: Any, path: str, *entries: tuple[str, str, str]) -> dict[str, Any]:
    body = {
        "entries": [
            {"action": action, "principal": principal, "permission": permission}
            for action, principal, permission in entries
        ]
    }
    return boss.put_json(f"{path}/@@acl", body, status=200).json


@pytest.fixture
def two_warehouses(boss: Any) -> None:
    """A-1 with 10 on hand at WH1 and at WH2."""
    stocked(boss, "A-1", "WH1", 10)
    stocked(boss, "A-1", "WH2", 10)


def test_receive_granted_at_one_location_only(
    testapp: Any, boss: Any, two_warehouses: None, make_user: Any, login: Any, plinth_engine: Any
) -> None:
    make_user("rita", "receivers")
    rita = login("rita")
    # before the grant: nothing
    testapp.post_json(
        "/locations/WH1/A-1/movements", {"kind": "receipt", "quantity": 1}, headers=rita, status=403
    )
    grant(boss, "/locations/WH1", ("Allow", "group:receivers", "stock.receive"))
    done = testapp.post_json(
        "/locations/WH1/A-1/movements", {"kind": "receipt", "quantity": 5}, headers=rita, status=201
    )
    assert done.json["movement"]["actor"] == "user:rita"
    before = snapshot(plinth_engine)
    response = testapp.post_json(
        "/locations/WH2/A-1/movements", {"kind": "receipt", "quantity": 5}, headers=rita, status=403
    )
    body = assert_error(response, 403, "forbidden")
    assert body["details"].get("permission") == "stock.receive"
    # receiving is not issuing
    testapp.post_json(
        "/locations/WH1/A-1/movements", {"kind": "issue", "quantity": 1}, headers=rita, status=403
    )
    # and a grant at a location does not open the catalog
    testapp.put_json("/stock/A-1", {"name": "renamed"}, headers=rita, status=403)
    assert snapshot(plinth_engine) == before
    assert level(boss, "A-1", "WH1")["on_hand"] == 15
    assert level(boss, "A-1", "WH2")["on_hand"] == 10


@pytest.mark.parametrize(
    ("permission", "kind", "quantity", "extra"),
    [
        ("stock.receive", "receipt", 2, {}),
        ("stock.issue", "issue", 2, {}),
        ("stock.adjust", "adjustment", -2, {"reason": "damaged"}),
        ("stock.adjust", "adjustment", 2, {"reason": "found"}),
    ],
)
def test_movement_needs_its_permission_at_the_location(
    as_principal: Any,
    boss: Any,
    two_warehouses: None,
    plinth_engine: Any,
    permission: str,
    kind: str,
    quantity: int,
    extra: dict[str, str],
) -> None:
    clerk = as_principal("user:clerk", "group:clerks")
    body = {"kind": kind, "quantity": quantity, **extra}
    grant(boss, "/locations/WH1", ("Allow", "group:clerks", permission))
    clerk.post_json("/locations/WH1/A-1/movements", body, status=201)
    before = snapshot(plinth_engine)
    clerk.post_json("/locations/WH2/A-1/movements", body, status=403)
    # the other movement kinds stay forbidden at WH1
    for other, other_body in (
        ("stock.receive", {"kind": "receipt", "quantity": 1}),
        ("stock.issue", {"kind": "issue", "quantity": 1}),
        ("stock.adjust", {"kind": "adjustment", "quantity": 1, "reason": "x"}),
    ):
        if other != permission:
            response = clerk.post_json("/locations/WH1/A-1/movements", other_body, status=403)
            assert response.json["details"].get("permission") == other
    assert snapshot(plinth_engine) == before
    change = quantity if kind != "issue" else -quantity
    assert level(boss, "A-1", "WH1")["on_hand"] == 10 + change
    assert level(boss, "A-1", "WH2")["on_hand"] == 10


def test_grant_on_one_level_applies_to_that_item_only(
    as_principal: Any, boss: Any, two_warehouses: None
) -> None:
    stocked(boss, "B-2", "WH1", 3)
    clerk = as_principal("user:clerk", "group:clerks")
    grant(boss, "/locations/WH1/A-1", ("Allow", "group:clerks", "stock.issue"))
    move(clerk, "WH1", "A-1", "issue", 1)
    move(clerk, "WH1", "B-2", "issue", 1, status=403)
    assert level(boss, "B-2", "WH1")["on_hand"] == 3


def test_reserve_granted_at_one_location(
    as_principal: Any, boss: Any, two_warehouses: None, plinth_engine: Any
) -> None:
    seller = as_principal("user:sam", "group:sellers")
    grant(boss, "/locations/WH1", ("Allow", "group:sellers", "stock.reserve"))
    reserve(seller, "WH1", "A-1", 3)
    before = snapshot(plinth_engine)
    reserve(seller, "WH2", "A-1", 3, status=403)
    assert snapshot(plinth_engine) == before
    assert level(boss, "A-1", "WH1")["reserved"] == 3
    assert level(boss, "A-1", "WH2")["reserved"] == 0


def test_confirm_needs_issue_and_release_needs_reserve_at_its_location(
    as_principal: Any, boss: Any, two_warehouses: None, plinth_engine: Any
) -> None:
    rid = reserve(boss, "WH1", "A-1", 4).json["id"]
    other = reserve(boss, "WH1", "A-1", 1).json["id"]
    seller = as_principal("user:sam", "group:sellers")
    picker = as_principal("user:pia", "group:pickers")
    elsewhere = as_principal("user:eve", "group:wh2")
    grant(
        boss,
        "/locations/WH1",
        ("Allow", "group:sellers", "stock.reserve"),
        ("Allow", "group:pickers", "stock.issue"),
    )
    grant(
        boss,
        "/locations/WH2",
        ("Allow", "group:wh2", "stock.issue"),
        ("Allow", "group:wh2", "stock.reserve"),
    )

    # the reservation's ACL inherits from its level and its location
    acl = boss.get(f"/reservations/{rid}/@@acl").json
    inherited = [r["resource"] for r in acl["inherited"]]
    assert inherited[:2] == ["/locations/WH1/A-1", "/locations/WH1"]
    assert inherited[-1] == "/"
    at_wh1 = next(r for r in acl["inherited"] if r["resource"] == "/locations/WH1")
    assert {(e["action"], e["principal"], e["permission"]) for e in at_wh1["entries"]} == {
        ("Allow", "group:sellers", "stock.reserve"),
        ("Allow", "group:pickers", "stock.issue"),
    }

    before = snapshot(plinth_engine)
    assert_error(seller.post(f"/reservations/{rid}/confirm", status=403), 403)
    assert_error(picker.post(f"/reservations/{rid}/release", status=403), 403)
    elsewhere.post(f"/reservations/{rid}/confirm", status=403)
    elsewhere.post(f"/reservations/{rid}/release", status=403)
    assert snapshot(plinth_engine) == before

    assert picker.post(f"/reservations/{rid}/confirm", status=200).json["status"] == "confirmed"
    assert seller.post(f"/reservations/{other}/release", status=200).json["status"] == "released"
    assert level(boss, "A-1", "WH1") == {"on_hand": 6, "reserved": 0, "available": 6}


def test_transfer_needs_issue_at_source_and_receive_at_destination(
    as_principal: Any, boss: Any, two_warehouses: None, plinth_engine: Any
) -> None:
    mover = as_principal("user:max", "group:movers")
    body = {"from": "WH1", "to": "WH2", "quantity": 3}
    mover.post_json("/stock/A-1/transfers", body, status=403)
    grant(boss, "/locations/WH1", ("Allow", "group:movers", "stock.issue"))
    before = snapshot(plinth_engine)
    response = mover.post_json("/stock/A-1/transfers", body, status=403)
    assert response.json["details"].get("permission") == "stock.receive"
    assert snapshot(plinth_engine) == before
    grant(boss, "/locations/WH2", ("Allow", "group:movers", "stock.receive"))
    mover.post_json("/stock/A-1/transfers", body, status=201)
    assert level(boss, "A-1", "WH1")["on_hand"] == 7
    assert level(boss, "A-1", "WH2")["on_hand"] == 13
    # the other way round needs issue at WH2 and receive at WH1: neither is granted
    before = snapshot(plinth_engine)
    back = {"from": "WH2", "to": "WH1", "quantity": 1}
    mover.post_json("/stock/A-1/transfers", back, status=403)
    assert snapshot(plinth_engine) == before
    # receive at the source and issue at the destination is not enough either
    other = as_principal("user:ola", "group:wrongway")
    grant(
        boss,
        "/locations/WH1",
        ("Allow", "group:movers", "stock.issue"),
        ("Allow", "group:wrongway", "stock.receive"),
    )
    grant(
        boss,
        "/locations/WH2",
        ("Allow", "group:movers", "stock.receive"),
        ("Allow", "group:wrongway", "stock.issue"),
    )
    other.post_json("/stock/A-1/transfers", body, status=403)
    assert snapshot(plinth_engine) == before


def test_deny_at_a_location_beats_allow_at_the_root(
    as_principal: Any, boss: Any, two_warehouses: None, plinth_engine: Any
) -> None:
    clerk = as_principal("user:carl", "group:clerks")
    grant(
        boss, "", ("Allow", "group:clerks", "stock.issue"), ("Allow", "group:clerks", "stock.view")
    )
    grant(boss, "/locations/WH2", ("Deny", "group:clerks", "stock.issue"))
    move(clerk, "WH1", "A-1", "issue", 1)
    before = snapshot(plinth_engine)
    move(clerk, "WH2", "A-1", "issue", 1, status=403)
    assert snapshot(plinth_engine) == before
    # the deny is for issuing only: the root's view grant still applies there
    clerk.get("/locations/WH2/A-1", status=200)
    # a Deny for one user beats an Allow for their group at the same place
    grant(boss, "/locations/WH1", ("Deny", "user:carl", "stock.issue"))
    move(clerk, "WH1", "A-1", "issue", 1, status=403)
    move(as_principal("user:cleo", "group:clerks"), "WH1", "A-1", "issue", 1)
    assert level(boss, "A-1", "WH1")["on_hand"] == 8


def test_view_granted_on_the_catalog_only(
    as_principal: Any, boss: Any, two_warehouses: None
) -> None:
    viewer = as_principal("user:vic", "group:viewers")
    grant(boss, "/stock", ("Allow", "group:viewers", "stock.view"))
    # the catalog, but no level: those are seen with stock.view at their location
    item = viewer.get("/stock/A-1").json
    assert (item["on_hand"], item["locations"]) == (0, [])
    viewer.get("/stock/NOPE-1", status=404)  # may view the catalog: may learn it is missing
    viewer.get("/locations/WH1", status=403)
    viewer.get("/locations/WH1/A-1/movements", status=403)
    viewer.put_json("/stock/A-1", {"name": "x"}, status=403)


def test_manage_on_the_catalog_does_not_manage_locations(as_principal: Any, boss: Any) -> None:
    put_location(boss, "WH1")
    buyer = as_principal("user:bea", "group:buyers")
    grant(boss, "/stock", ("Allow", "group:buyers", "stock.manage"))
    buyer.put_json("/stock/NEW-1", {"name": "New"}, status=201)
    buyer.put_json("/locations/WH1", {"name": "Hijacked"}, status=403)
    buyer.put_json("/locations/WH7", {"name": "New"}, status=403)
    assert boss.get("/locations/WH1").json["name"] == "Location WH1"
    boss.get("/locations/WH7", status=404)


def test_permissions_explain_the_decision(
    testapp: Any, boss: Any, two_warehouses: None, make_user: Any
) -> None:
    make_user("rita", "receivers")
    grant(boss, "/locations/WH1", ("Allow", "group:receivers", "stock.receive"))
    grant(boss, "/locations/WH2", ("Deny", "group:receivers", "stock.receive"))
    body = boss.get("/locations/WH1/A-1/@@permissions?principal=user:rita").json
    assert body["resource"] == "/locations/WH1/A-1"
    assert body["principal"] == "user:rita"
    assert "group:receivers" in body["principals"]
    decisions = {p["permission"]: p for p in body["permissions"]}
    receive = decisions["stock.receive"]
    assert receive["allowed"] is True
    assert receive["decided_by"]["resource"] == "/locations/WH1"
    assert receive["decided_by"]["principal"] == "group:receivers"
    assert receive["decided_by"]["action"] == "Allow"
    assert "/locations/WH1" in receive["explanation"]
    assert decisions["stock.issue"]["allowed"] is False
    assert decisions["stock.issue"]["decided_by"] is None
    assert decisions["stock.view"]["allowed"] is False

    one = boss.get(
        "/locations/WH2/A-1/@@permissions?principal=user:rita&permission=stock.receive"
    ).json["permissions"]
    assert len(one) == 1
    assert one[0]["allowed"] is False
    assert one[0]["decided_by"]["action"] == "Deny"
    assert one[0]["decided_by"]["resource"] == "/locations/WH2"

    admin = boss.get("/locations/WH2/A-1/@@permissions?principal=user:rita").json
    assert admin["resource"] == "/locations/WH2/A-1"
    boss.get("/locations/WH1/A-1/@@permissions?principal=user:ghost", status=404)
    # only those who may read ACLs may ask
    assert_error(
        testapp.get("/locations/WH1/A-1/@@permissions?principal=user:rita", status=401), 401
    )


def test_acl_changes_need_acl_manage(
    as_principal: Any, boss: Any, two_warehouses: None, plinth_engine: Any
) -> None:
    manager = as_principal("user:mia", "group:managers")
    grant(
        boss,
        "/locations/WH1",
        ("Allow", "group:managers", "stock.issue"),
        ("Allow", "group:managers", "acl.view"),
    )
    manager.get("/locations/WH1/@@acl", status=200)
    before = snapshot(plinth_engine)
    manager.put_json(
        "/locations/WH2/@@acl",
        {
            "entries": [
                {"action": "Allow", "principal": "group:managers", "permission": "stock.issue"}
            ]
        },
        status=403,
    )
    move(manager, "WH2", "A-1", "issue", 1, status=403)
    assert snapshot(plinth_engine) == before
