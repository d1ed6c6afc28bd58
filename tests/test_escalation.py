"""No escalation: a matrix of callers against every resource kind and ACL change."""

from __future__ import annotations

from typing import Any

import pytest

# One resource of every kind that the enabled plugins mount.
RESOURCES = ["/", "/auth", "/auth/users", "/auth/users/admin", "/auth/groups",
             "/stock", "/stock/A-1", "/locations", "/locations/WH1", "/locations/WH1/A-1",
             "/locations/WH2/A-1"]

# Callers who do not hold acl.manage anywhere, with the grants they do hold.
CALLERS: dict[str, tuple[list[str], list[tuple[str, str]]]] = {
    "clerk": (["group:clerks"], [("/", "stock.view")]),
    "auditor": (["group:auditors"], [("/", "acl.view")]),
    "manager": (["group:managers"], [("/", "stock.manage"), ("/", "auth.manage")]),
    "wh1-lead": (["group:wh1"], [("/locations/WH1", "stock.receive"),
                                 ("/locations/WH1", "stock.issue"),
                                 ("/locations/WH1", "stock.view")]),
}


@pytest.fixture
def world(as_principal: Any) -> dict[str, Any]:
    admin = as_principal("user:root", "group:admins")
    admin.put_json("/locations/WH1", {"name": "one"})
    admin.put_json("/locations/WH2", {"name": "two"})
    admin.put_json("/stock/A-1", {"name": "item"})
    for location in ("WH1", "WH2"):
        admin.post_json(f"/locations/{location}/A-1/movements",
                        {"kind": "receipt", "quantity": 10})
    grants: dict[str, list[dict[str, str]]] = {}
    for groups, entries in (c for c in CALLERS.values()):
        for path, permission in entries:
            grants.setdefault(path, []).append(
                {"action": "Allow", "principal": groups[0], "permission": permission})
    for path, entries in grants.items():
        admin.put_json(f"{path.rstrip('/')}/@@acl", {"entries": entries})
    apps = {name: as_principal(f"user:{name}", *groups)
            for name, (groups, _) in CALLERS.items()}
    return {"admin": admin, **apps}


@pytest.mark.parametrize("caller", sorted(CALLERS))
def test_nobody_without_acl_manage_changes_an_acl(world: dict[str, Any], caller: str,
                                                  testapp: Any) -> None:
    app = world[caller]
    for path in RESOURCES:
        url = f"{path.rstrip('/')}/@@acl"
        before = world["admin"].get(url).json
        grant_self = {"entries": [{"action": "Allow", "principal": f"user:{caller}",
                                   "permission": "ALL"}], "inherit": True}
        app.put_json(url, grant_self, status=403)
        testapp.put_json(url, grant_self, status=401)
        assert world["admin"].get(url).json == before, url


def test_rights_at_one_location_do_not_reach_another(world: dict[str, Any]) -> None:
    lead = world["wh1-lead"]
    lead.post_json("/locations/WH1/A-1/movements", {"kind": "receipt", "quantity": 1},
                   status=201)
    lead.post_json("/locations/WH2/A-1/movements", {"kind": "receipt", "quantity": 1},
                   status=403)
    lead.post_json("/locations/WH2/A-1/movements", {"kind": "issue", "quantity": 1},
                   status=403)
    lead.post_json("/stock/A-1/transfers", {"from": "WH1", "to": "WH2", "quantity": 1},
                   status=403)
    lead.get("/locations/WH2/A-1", status=403)
    lead.get("/locations/WH1/A-1", status=200)
    assert world["admin"].get("/locations/WH2/A-1").json["on_hand"] == 10


def test_granted_permissions_do_not_imply_others(world: dict[str, Any]) -> None:
    world["clerk"].get("/stock/A-1", status=200)
    world["clerk"].put_json("/stock/A-1", {"name": "renamed"}, status=403)
    world["clerk"].get("/auth/users", status=403)
    world["manager"].put_json("/stock/A-1", {"name": "renamed"}, status=200)
    world["manager"].post_json("/locations/WH1/A-1/movements",
                               {"kind": "adjustment", "quantity": -1, "reason": "x"},
                               status=403)
    # a user manager can make users but cannot grant rights through the ACL API
    world["manager"].put_json("/auth/users/newbie", {"password": "nb-secret-pass-1",
                                                     "groups": ["clerks"]}, status=403)
    world["manager"].put_json("/auth/users/newbie", {"password": "nb-secret-pass-1",
                                                     "groups": ["managers"]}, status=201)
    world["manager"].put_json("/@@acl", {"entries": []}, status=403)
    world["auditor"].get("/locations/WH1/@@acl", status=200)
    world["auditor"].get("/@@audit", status=200)
    world["auditor"].get("/stock/A-1", status=403)


def test_every_view_denies_anonymous_callers(plinth_registry: Any, testapp: Any) -> None:
    """Anonymous requests to everything that is not public: always 401."""
    for path in [*RESOURCES, "/reservations/" + "0" * 32]:
        for method in ("GET", "PUT", "POST", "DELETE"):
            response = testapp.request(path, method=method, status="*",
                                       headers={"Content-Type": "application/json"},
                                       body=b"{}")
            if path == "/" and method == "GET":
                assert response.status_int == 200
            else:
                assert response.status_int in (401, 405), (method, path, response.status)
