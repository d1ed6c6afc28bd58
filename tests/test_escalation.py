"""No escalation: a matrix of callers against every resource kind and ACL change."""

from __future__ import annotations

import functools
from typing import Any

import pytest

# One resource of every kind that the enabled plugins mount.
RESOURCES = [
    "/",
    "/auth",
    "/auth/users",
    "/auth/users/admin",
    "/auth/groups",
    "/stock",
    "/stock/A-1",
    "/locations",
    "/locations/WH1",
    "/locations/WH1/A-1",
    "/locations/WH2/A-1",
]

# Callers who do not hold acl.manage anywhere, with the grants they do hold.
CALLERS: dict[str, tuple[list[str], list[tuple[str, str]]]] = {
    "clerk": (["group:clerks"], [("/", "stock.view")]),
    "auditor": (["group:auditors"], [("/", "acl.view")]),
    "manager": (["group:managers"], [("/", "stock.manage"), ("/", "auth.manage")]),
    "wh1-lead": (
        ["group:wh1"],
        [
            ("/locations/WH1", "stock.receive"),
            ("/locations/WH1", "stock.issue"),
            ("/locations/WH1", "stock.view"),
        ],
    ),
}


@pytest.fixture
def world(as_principal: Any) -> dict[str, Any]:
    admin = as_principal("user:root", "group:admins")
    admin.put_json("/locations/WH1", {"name": "one"})
    admin.put_json("/locations/WH2", {"name": "two"})
    admin.put_json("/stock/A-1", {"name": "item"})
    for location in ("WH1", "WH2"):
        admin.post_json(f"/locations/{location}/A-1/movements", {"kind": "receipt", "quantity": 10})
    grants: dict[str, list[dict[str, str]]] = {}
    for groups, entries in (c for c in CALLERS.values()):
        for path, permission in entries:
            grants.setdefault(path, []).append(
                {"action": "Allow", "principal": groups[0], "permission": permission}
            )
    for path, entries in grants.items():
        admin.put_json(f"{path.rstrip('/')}/@@acl", {"entries": entries})
    apps = {name: as_principal(f"user:{name}", *groups) for name, (groups, _) in CALLERS.items()}
    return {"admin": admin, **apps}


@pytest.mark.parametrize("caller", sorted(CALLERS))
def test_nobody_without_acl_manage_changes_an_acl(
    world: dict[str, Any], caller: str, testapp: Any
) -> None:
    app = world[caller]
    for path in RESOURCES:
        url = f"{path.rstrip('/')}/@@acl"
        before = world["admin"].get(url).json
        grant_self = {
            "entries": [{"action": "Allow", "principal": f"user:{caller}", "permission": "ALL"}],
            "inherit": True,
        }
        app.put_json(url, grant_self, status=403)
        testapp.put_json(url, grant_self, status=401)
        assert world["admin"].get(url).json == before, url


def test_rights_at_one_location_do_not_reach_another(world: dict[str, Any]) -> None:
    lead = world["wh1-lead"]
    lead.post_json("/locations/WH1/A-1/movements", {"kind": "receipt", "quantity": 1}, status=201)
    lead.post_json("/locations/WH2/A-1/movements", {"kind": "receipt", "quantity": 1}, status=403)
    lead.post_json("/locations/WH2/A-1/movements", {"kind": "issue", "quantity": 1}, status=403)
    lead.post_json("/stock/A-1/transfers", {"from": "WH1", "to": "WH2", "quantity": 1}, status=403)
    lead.get("/locations/WH2/A-1", status=403)
    lead.get("/locations/WH1/A-1", status=200)
    assert world["admin"].get("/locations/WH2/A-1").json["on_hand"] == 10


def test_granted_permissions_do_not_imply_others(world: dict[str, Any]) -> None:
    world["clerk"].get("/stock/A-1", status=200)
    world["clerk"].put_json("/stock/A-1", {"name": "renamed"}, status=403)
    world["clerk"].get("/auth/users", status=403)
    world["manager"].put_json("/stock/A-1", {"name": "renamed"}, status=200)
    world["manager"].post_json(
        "/locations/WH1/A-1/movements",
        {"kind": "adjustment", "quantity": -1, "reason": "x"},
        status=403,
    )
    # a user manager can make users but cannot grant rights through the ACL API
    world["manager"].put_json(
        "/auth/users/newbie", {"password": "nb-secret-pass-1", "groups": ["clerks"]}, status=403
    )
    world["manager"].put_json(
        "/auth/users/newbie", {"password": "nb-secret-pass-1", "groups": ["managers"]}, status=201
    )
    world["manager"].put_json("/@@acl", {"entries": []}, status=403)
    world["auditor"].get("/locations/WH1/@@acl", status=200)
    world["auditor"].get("/@@audit", status=200)
    world["auditor"].get("/stock/A-1", status=403)


def test_every_view_denies_anonymous_callers(plinth_registry: Any, testapp: Any) -> None:
    """Anonymous requests to everything that is not public: always 401."""
    for path in [*RESOURCES, "/reservations/" + "0" * 32]:
        for method in ("GET", "PUT", "POST", "DELETE"):
            response = testapp.request(
                path,
                method=method,
                status="*",
                headers={"Content-Type": "application/json"},
                body=b"{}",
            )
            if path == "/" and method == "GET":
                assert response.status_int == 200
            else:
                assert response.status_int in (401, 405), (method, path, response.status)


# Safe delegation ------------------------------------------------------------------
#
# A delegate ("lead": acl.manage, acl.view, stock.view and stock.receive at WH1,
# auth.manage on /auth, member of leads and wh1) against a superuser, on
# every route that hands on rights.  Each case runs on a fresh world as both.

LEAD = ("user:lead", "group:leads", "group:wh1")
SUPER = ("user:root", "group:admins")


def allow(principal: str, permission: str) -> dict[str, str]:
    return {"action": "Allow", "principal": principal, "permission": permission}


def deny(principal: str, permission: str) -> dict[str, str]:
    return {"action": "Deny", "principal": principal, "permission": permission}


WH1_START = [
    allow("group:leads", "acl.manage"),
    allow("group:leads", "acl.view"),
    allow("group:leads", "stock.view"),
    allow("group:leads", "stock.receive"),
    deny("group:wh1", "stock.adjust"),
]


@functools.cache
def password_hash() -> str:
    from plinth_auth.passwords import hash_password
    from plinth_auth.testing import PASSWORD

    return hash_password(PASSWORD)


def add_users(registry: Any, users: dict[str, list[str]]) -> None:
    """Users with groups, sharing one real argon2 hash of the test password:
    hashing it once per user per case would make this matrix slow."""
    from plinth.cli import Environment
    from plinth.clock import now
    from plinth_auth.models import Group, User

    with Environment(registry, "testing.ini").session() as db:
        groups = {name: Group(name=name) for name in {g for gs in users.values() for g in gs}}
        for name, member_of in users.items():
            db.add(
                User(
                    name=name,
                    password_hash=password_hash(),
                    active=True,
                    created_at=now(),
                    updated_at=now(),
                    groups=[groups[g] for g in member_of],
                )
            )


@pytest.fixture
def delegation(as_principal: Any, plinth_registry: Any) -> dict[str, Any]:
    admin = as_principal(*SUPER)
    admin.put_json("/locations/WH1", {"name": "one"})
    admin.put_json("/stock/A-1", {"name": "item"})
    admin.put_json(
        "/@@acl",
        {"entries": [allow("group:wh1", "stock.adjust"), allow("group:auditors", "acl.view")]},
    )
    admin.put_json("/locations/WH1/@@acl", {"entries": WH1_START})
    admin.put_json("/auth/@@acl", {"entries": [allow("group:leads", "auth.manage")]})
    # A-1 at WH1 stands alone, managed by the lead; the parents' grants do not reach it
    admin.put_json(
        "/locations/WH1/A-1/@@acl",
        {"entries": [allow("group:leads", "acl.manage")], "inherit": False},
    )
    # boss is the only superuser with an account
    add_users(
        plinth_registry,
        {"boss": ["admins"], "lead": ["leads", "wh1"], "clerk": ["wh1"], "other": ["auditors"]},
    )
    return {"admin": admin, "lead": as_principal(*LEAD), "super": as_principal(*SUPER)}


def login_id(app: Any, name: str) -> str:
    from plinth_auth.testing import PASSWORD

    return app.post_json("/auth/tokens", {"username": name, "password": PASSWORD}).json["id"]


WH1 = "/locations/WH1/@@acl"
PASSWORD = "a-new-secret-passphrase"

# name: (method, url, body, delegate's status, superuser's status)
DELEGATION_CASES: dict[str, tuple[str, str, Any, int, int]] = {
    "grant ALL": ("PUT", WH1, {"entries": [*WH1_START, allow("user:lead", "ALL")]}, 403, 200),
    "grant to everyone": (
        "PUT",
        WH1,
        {"entries": [*WH1_START, allow("system.Everyone", "stock.view")]},
        403,
        200,
    ),
    "grant to the authenticated": (
        "PUT",
        WH1,
        {"entries": [*WH1_START, allow("system.Authenticated", "stock.receive")]},
        403,
        200,
    ),
    "grant what is not held": (
        "PUT",
        WH1,
        {"entries": [*WH1_START, allow("group:wh1", "stock.issue")]},
        403,
        200,
    ),
    "grant a held permission": (
        "PUT",
        WH1,
        {"entries": [*WH1_START, allow("group:wh1", "stock.view")]},
        200,
        200,
    ),
    "deny the admins everything": (
        "PUT",
        WH1,
        {"entries": [deny("group:admins", "ALL"), *WH1_START]},
        403,
        200,
    ),
    "deny the admins a held permission": (
        "PUT",
        WH1,
        {"entries": [deny("group:admins", "stock.view"), *WH1_START]},
        200,
        200,
    ),
    "stop inheriting": ("PUT", WH1, {"entries": WH1_START, "inherit": False}, 200, 200),
    "remove a Deny of what is not held": ("PUT", WH1, {"entries": WH1_START[:-1]}, 403, 200),
    "move an Allow above a Deny": (
        "PUT",
        WH1,
        {"entries": [allow("group:wh1", "stock.adjust"), *WH1_START]},
        403,
        200,
    ),
    "remove own grants": ("PUT", WH1, {"entries": [WH1_START[0], WH1_START[-1]]}, 200, 200),
    "inherit again": (
        "PUT",
        "/locations/WH1/A-1/@@acl",
        {"entries": [allow("group:leads", "acl.manage")], "inherit": True},
        403,
        200,
    ),
    "add self to admins": (
        "PUT",
        "/auth/users/lead",
        {"groups": ["leads", "wh1", "admins"]},
        403,
        200,
    ),
    "create a user in own group": (
        "PUT",
        "/auth/users/newbie",
        {"password": PASSWORD, "groups": ["wh1"]},
        201,
        201,
    ),
    "create a user in another group": (
        "PUT",
        "/auth/users/newbie",
        {"password": PASSWORD, "groups": ["auditors"]},
        403,
        201,
    ),
    "create a superuser": (
        "PUT",
        "/auth/users/newbie",
        {"password": PASSWORD, "groups": ["admins"]},
        403,
        201,
    ),
    "reset a superuser's password": ("PUT", "/auth/users/boss", {"password": PASSWORD}, 403, 200),
    "disable the last superuser": ("PUT", "/auth/users/boss", {"active": False}, 403, 409),
    "take the last superuser out of its group": (
        "PUT",
        "/auth/users/boss",
        {"groups": []},
        403,
        409,
    ),
    "delete the last superuser": ("DELETE", "/auth/users/boss", None, 403, 409),
    "reset the password of a user in other groups": (
        "PUT",
        "/auth/users/other",
        {"password": PASSWORD},
        403,
        200,
    ),
    "reset the password of a user in own group": (
        "PUT",
        "/auth/users/clerk",
        {"password": PASSWORD},
        200,
        200,
    ),
    "disable a user": ("PUT", "/auth/users/other", {"active": False}, 200, 200),
    "revoke a superuser's token": ("DELETE", "/auth/tokens/{boss_token}", None, 403, 204),
    "revoke a token of a user in other groups": (
        "DELETE",
        "/auth/tokens/{other_token}",
        None,
        204,
        204,
    ),
    "a name with a newline": ("PUT", "/auth/users/admin%0A", {"password": PASSWORD}, 400, 400),
    "a group with a newline": ("PUT", "/auth/users/clerk", {"groups": ["wh1\n"]}, 400, 400),
}
ERRORS = {403: "delegation_denied", 409: "last_superuser"}


@pytest.mark.parametrize("role", ["lead", "super"])
@pytest.mark.parametrize("case", sorted(DELEGATION_CASES))
def test_delegation_matrix(delegation: dict[str, Any], case: str, role: str) -> None:
    method, url, body, as_lead, as_super = DELEGATION_CASES[case]
    if "{" in url:
        url = url.format(
            **{f"{name}_token": login_id(delegation["admin"], name) for name in ("boss", "other")}
        )
    expected = as_lead if role == "lead" else as_super
    admin = delegation["admin"]
    acl_url = url if "@@acl" in url else None
    before_acl = admin.get(acl_url).json if acl_url else None
    before_users = admin.get("/auth/users").json
    app = delegation[role]
    if method == "PUT":
        response = app.put_json(url, body, status="*")
    else:
        response = app.delete(url, status="*")
    assert response.status_int == expected, (case, role, response.text)
    if expected in ERRORS:
        assert response.json["error"] == ERRORS[expected]
    if expected >= 400:  # nothing written
        if acl_url:
            assert admin.get(acl_url).json == before_acl
        assert admin.get("/auth/users").json == before_users
    if expected == 403 and acl_url:
        # the offending entry is named
        assert (
            "entries/" in response.json["details"].get("field", "entries/")
            or "inherit" in response.json["message"]
        )


def test_denied_entry_is_named(delegation: dict[str, Any]) -> None:
    body = {
        "entries": [
            *WH1_START,
            allow("group:wh1", "stock.view"),
            allow("system.Everyone", "stock.view"),
        ]
    }
    details = delegation["lead"].put_json(WH1, body, status=403).json["details"]
    assert details["index"] == 6 and details["field"] == "entries/6"
    assert details["entry"] == allow("system.Everyone", "stock.view")


def test_no_entry_takes_a_superuser_out(delegation: dict[str, Any]) -> None:
    admin, lead = delegation["admin"], delegation["lead"]
    admin.put_json(
        "/locations/WH1/@@acl",
        {"entries": [deny("group:admins", "ALL"), *WH1_START], "inherit": False},
    )
    lead.put_json(
        WH1, {"entries": [deny("group:admins", "stock.view"), *WH1_START], "inherit": False}
    )
    admin.get("/locations/WH1", status=200)
    admin.post_json("/locations/WH1/A-1/movements", {"kind": "receipt", "quantity": 1}, status=201)
    explained = admin.get("/locations/WH1/@@permissions?permission=stock.view").json
    assert explained["superuser"] == "group:admins"
    row = explained["permissions"][0]
    assert row["allowed"] is True and row["superuser"] == "group:admins"
    assert "superuser" in row["explanation"]
    assert (
        admin.get("/locations/WH1/@@permissions?principal=user:boss&permission=acl.manage").json[
            "permissions"
        ][0]["allowed"]
        is True
    )


def test_a_delegate_keeps_what_it_was_given(delegation: dict[str, Any]) -> None:
    """The lead can still do its job: grant what it holds, to its own people."""
    lead = delegation["lead"]
    lead.put_json(WH1, {"entries": [*WH1_START, allow("user:clerk", "stock.receive")]})
    lead.put_json("/auth/users/clerk", {"groups": ["wh1", "leads"]}, status=200)
    lead.put_json("/auth/users/clerk", {"groups": ["wh1"]}, status=200)


def test_last_superuser_can_go_once_another_exists(
    delegation: dict[str, Any], make_user: Any
) -> None:
    admin = delegation["admin"]
    admin.put_json("/auth/users/boss", {"active": False}, status=409)
    make_user("second", "admins")
    admin.put_json("/auth/users/boss", {"active": False}, status=200)
    response = admin.delete("/auth/users/second", status=409)
    assert response.json["error"] == "last_superuser"
    admin.put_json("/auth/users/boss", {"active": True}, status=200)
    admin.delete("/auth/users/second", status=204)


# No hints ---------------------------------------------------------------------


def test_403_bodies_do_not_tell_whether_the_target_exists(
    delegation: dict[str, Any], as_principal: Any, testapp: Any, make_user: Any, login: Any
) -> None:
    admin = delegation["admin"]
    admin.put_json("/locations/WH2", {"name": "two"})
    admin.post_json("/locations/WH2/A-1/movements", {"kind": "receipt", "quantity": 5})
    reservation = admin.post_json(
        "/locations/WH2/A-1/reservations", {"quantity": 1, "reference": "r"}
    ).json["id"]
    # the clerk may reserve at WH1 only
    admin.put_json(
        "/locations/WH1/@@acl",
        {
            "entries": [
                *WH1_START,
                allow("group:wh1", "stock.reserve"),
                allow("group:wh1", "stock.view"),
            ]
        },
    )
    clerk = as_principal("user:clerk", "group:wh1")
    pairs = [
        ("/auth/groups/admins", "/auth/groups/nosuch"),
        ("/reports/low-stock", "/reports/no-such-report"),
        (f"/reservations/{reservation}", "/reservations/" + "f" * 32),
        (f"/reservations/{reservation}/confirm", "/reservations/" + "f" * 32 + "/confirm"),
    ]
    for existing, missing in pairs:
        method = "post" if existing.endswith("confirm") else "get"
        there = getattr(clerk, method)(existing, status=403)
        not_there = getattr(clerk, method)(missing, status=403)
        assert there.json == not_there.json, (existing, there.json, not_there.json)
    # somebody else's token against one that does not exist
    make_user("owner")
    owner_token = testapp.post_json(
        "/auth/tokens", {"username": "owner", "password": "correct-horse-battery-staple"}
    ).json
    make_user("nosy")
    nosy = login("nosy")
    there = testapp.delete(f"/auth/tokens/{owner_token['id']}", headers=nosy, status=403)
    not_there = testapp.delete("/auth/tokens/" + "0" * 32, headers=nosy, status=403)
    assert there.json == not_there.json
    # the owner still revokes its own; a manager gets 404 for a missing one
    testapp.delete(
        f"/auth/tokens/{owner_token['id']}",
        headers={"Authorization": f"Bearer {owner_token['token']}"},
        status=204,
    )
    delegation["super"].delete("/auth/tokens/" + "0" * 32, status=404)


def test_subtree_acl_viewers_learn_no_memberships(delegation: dict[str, Any]) -> None:
    lead = delegation["lead"]  # acl.view at WH1 only
    url = "/locations/WH1/@@permissions?principal="
    existing = lead.get(url + "user:clerk", status=403)
    missing = lead.get(url + "user:ghost", status=403)
    assert existing.json == missing.json
    # groups are explained as themselves, whether or not they exist
    known = lead.get(url + "group:wh1").json
    unknown = lead.get(url + "group:nosuch").json
    assert known["principals"] == ["system.Everyone", "system.Authenticated", "group:wh1"]
    assert unknown["principals"][-1] == "group:nosuch"
    mine = lead.get(url + "user:lead").json
    assert "group:leads" in mine["principals"]
    # acl.view at the root (an auditor) sees the directory as before
    auditor = delegation["admin"]
    assert "group:wh1" in auditor.get(url + "user:clerk").json["principals"]
    auditor.get(url + "user:ghost", status=404)
