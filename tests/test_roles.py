"""Roles: declared by plugins, stored by superusers, granted as ``role:NAME``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pyramid.exceptions import ConfigurationConflictError, ConfigurationError

from plinth import make_configurator
from plinth.testing import acl_entry as grant


@pytest.fixture
def root(as_principal: Any) -> Any:
    root = as_principal("user:root", "group:admins")
    for code in ("WH1", "WH2"):
        root.put_json(f"/locations/{code}", {"name": code})
    root.put_json("/stock/A-1", {"name": "Anchor bolt"})
    return root


def configurator(tmp_path: Path) -> Any:
    return make_configurator(
        {"sqlalchemy.url": f"sqlite:///{tmp_path / 'c.sqlite'}", "plinth.plugins": "stock"}
    )


def test_two_declarations_of_one_role_conflict(tmp_path: Path) -> None:
    config = configurator(tmp_path)

    def another_plugin(config: Any) -> None:
        config.declare_role("stock.clerk", ["stock.view"])

    # Included like a plugin: a directive in the top-level configuration would
    # override the included one instead, as Pyramid means it to.
    config.include(another_plugin)
    with pytest.raises(ConfigurationConflictError):
        config.commit()


def test_a_role_of_undeclared_permissions_stops_start_up(tmp_path: Path) -> None:
    config = configurator(tmp_path)
    config.declare_role("shelf.stacker", ["shelf.stack"])
    with pytest.raises(ConfigurationError, match=r"shelf\.stack"):
        config.commit()


@pytest.mark.parametrize("name", ["Clerk", "clerk\n", "", "a" * 65, "role:x"])
def test_a_bad_role_name_stops_start_up(tmp_path: Path, name: str) -> None:
    with pytest.raises(ConfigurationError):
        configurator(tmp_path).declare_role(name, ["stock.view"])


def test_shipped_plugins_declare_their_roles(root: Any) -> None:
    roles = {r["name"]: r for r in root.get("/@@roles").json["items"]}
    assert roles["stock.clerk"] == {
        "name": "stock.clerk",
        "title": "Receive, issue and reserve stock",
        "permissions": ["stock.issue", "stock.receive", "stock.reserve", "stock.view"],
        "source": "declared",
    }
    assert set(roles["stock.manager"]["permissions"]) == {
        "stock.view",
        "stock.manage",
        "stock.receive",
        "stock.issue",
        "stock.adjust",
        "stock.reserve",
    }
    assert roles["reports.reader"]["permissions"] == ["reports.view"]
    assert roles["acl.admin"]["permissions"] == ["acl.manage", "acl.view"]


def test_superusers_store_roles(root: Any) -> None:
    created = root.put_json(
        "/@@roles/counter",
        {"title": "Counts stock", "permissions": ["stock.view", "stock.adjust"]},
        status=201,
    ).json
    assert created == {
        "name": "counter",
        "title": "Counts stock",
        "permissions": ["stock.adjust", "stock.view"],
        "source": "stored",
    }
    root.put_json("/@@roles/counter", {"permissions": ["stock.view"]}, status=200)
    roles = {r["name"]: r for r in root.get("/@@roles").json["items"]}
    assert roles["counter"]["permissions"] == ["stock.view"]
    assert roles["counter"]["title"] == "Counts stock"
    kinds = [e["kind"] for e in root.get("/@@audit?resource=role:counter").json["items"]]
    assert kinds == ["role.saved", "role.saved"]


@pytest.mark.parametrize(
    ("name", "body", "status", "error"),
    [
        ("stock.clerk", {"permissions": ["stock.view"]}, 409, "declared_role"),
        ("counter", {"permissions": ["no.such"]}, 400, "invalid_role"),
        ("counter", {"permissions": ["ALL"]}, 400, "invalid_role"),
        ("counter", {"permissions": ["role:stock.clerk"]}, 400, "invalid_role"),
        ("counter", {"permissions": []}, 400, "invalid_request"),
        ("counter", {"permissions": ["stock.view"], "extra": 1}, 400, "invalid_request"),
        ("Counter", {"permissions": ["stock.view"]}, 400, "invalid_request"),
        ("counter%0A", {"permissions": ["stock.view"]}, 400, "invalid_request"),
    ],
)
def test_bad_role_writes_are_refused(
    root: Any, name: str, body: dict[str, Any], status: int, error: str
) -> None:
    response = root.put_json(f"/@@roles/{name}", body, status=status)
    assert response.json["error"] == error
    assert {
        r["name"] for r in root.get("/@@roles").json["items"] if r["source"] == "stored"
    } == set()


def test_only_superusers_change_roles(root: Any, as_principal: Any) -> None:
    root.put_json(
        "/@@acl", {"entries": [grant("group:acl", "acl.manage"), grant("group:acl", "acl.view")]}
    )
    manager = as_principal("user:m", "group:acl")
    assert manager.get("/@@roles").json["items"]
    response = manager.put_json("/@@roles/counter", {"permissions": ["stock.view"]}, status=403)
    assert response.json["error"] == "forbidden"
    root.put_json("/@@roles/counter", {"permissions": ["stock.view"]}, status=201)
    manager.delete("/@@roles/counter", status=403)
    as_principal("user:nobody").get("/@@roles", status=403)


def test_an_entry_naming_a_role_grants_its_permissions(
    root: Any, as_principal: Any, make_user: Any
) -> None:
    make_user("cy", "clerks")
    root.put_json("/locations/WH1/@@acl", {"entries": [grant("group:clerks", "role:stock.clerk")]})
    clerk = as_principal("user:cy", "group:clerks")
    clerk.post_json("/locations/WH1/A-1/movements", {"kind": "receipt", "quantity": 2}, status=201)
    # not adjust: the role does not hold it; not at WH2: granted at WH1 only
    clerk.post_json(
        "/locations/WH1/A-1/movements",
        {"kind": "adjustment", "quantity": 1, "reason": "count"},
        status=403,
    )
    clerk.post_json("/locations/WH2/A-1/movements", {"kind": "receipt", "quantity": 2}, status=403)
    explained = root.get(
        "/locations/WH1/A-1/@@permissions?principal=user:cy&permission=stock.receive"
    ).json["permissions"][0]
    assert explained["allowed"] is True and explained["role"] == "stock.clerk"
    assert explained["decided_by"]["permission"] == "role:stock.clerk"
    assert "through role stock.clerk" in explained["explanation"]


def test_a_stored_role_is_granted_and_changes_take_effect(root: Any, as_principal: Any) -> None:
    root.put_json("/@@roles/looker", {"permissions": ["stock.view"]}, status=201)
    root.put_json("/stock/@@acl", {"entries": [grant("group:lookers", "role:looker")]})
    looker = as_principal("user:l", "group:lookers")
    looker.get("/stock/A-1", status=200)
    root.put_json("/@@roles/looker", {"permissions": ["reports.view"]}, status=200)
    looker.get("/stock/A-1", status=403)


def test_unknown_roles_are_refused_in_entries(root: Any) -> None:
    response = root.put_json(
        "/stock/@@acl", {"entries": [grant("group:x", "role:nobody")]}, status=400
    )
    assert response.json["error"] == "invalid_acl"
    assert response.json["details"]["errors"] == [
        {"field": "entries/0/permission", "message": "unknown role 'role:nobody'"}
    ]
    assert "role:stock.clerk" in response.json["details"]["roles"]


def test_a_role_in_use_cannot_be_deleted(root: Any) -> None:
    root.put_json("/@@roles/looker", {"permissions": ["stock.view"]}, status=201)
    root.put_json("/stock/@@acl", {"entries": [grant("group:lookers", "role:looker")]})
    response = root.delete("/@@roles/looker", status=409)
    assert response.json["error"] == "role_in_use"
    assert response.json["details"]["entries"] == [{"resource": "/stock", "position": 0}]
    root.put_json("/stock/@@acl", {"entries": []})
    root.delete("/@@roles/looker", status=204)
    assert root.delete("/@@roles/looker", status=404).json["error"] == "not_found"
    assert root.delete("/@@roles/stock.clerk", status=409).json["error"] == "declared_role"
    assert root.delete("/@@roles/Looker", status=400).json["error"] == "invalid_request"
    kinds = [e["kind"] for e in root.get("/@@audit?resource=role:looker").json["items"]]
    assert kinds == ["role.deleted", "role.saved"]


def test_a_delegate_grants_a_role_only_holding_all_its_permissions(
    root: Any, as_principal: Any
) -> None:
    root.put_json(
        "/locations/WH1/@@acl",
        {
            "entries": [
                grant("group:leads", "acl.manage"),
                grant("group:leads", "stock.view"),
                grant("group:leads", "stock.receive"),
            ]
        },
    )
    lead = as_principal("user:lea", "group:leads")
    keep = [
        grant("group:leads", "acl.manage"),
        grant("group:leads", "stock.view"),
        grant("group:leads", "stock.receive"),
    ]
    response = lead.put_json(
        "/locations/WH1/@@acl",
        {"entries": [*keep, grant("user:rita", "role:stock.clerk")]},
        status=403,
    )
    assert response.json["error"] == "delegation_denied"
    assert response.json["details"]["field"] == "entries/3"
    assert "stock.issue" in response.json["message"]
    root.put_json("/@@roles/receiver", {"permissions": ["stock.view", "stock.receive"]})
    lead.put_json(
        "/locations/WH1/@@acl",
        {"entries": [*keep, grant("user:rita", "role:receiver")]},
        status=200,
    )


def test_declared_roles_cost_no_statement_and_stored_ones_one(
    root: Any, as_principal: Any, sql_counter: Any
) -> None:
    root.put_json("/@@roles/looker", {"permissions": ["stock.view"]}, status=201)
    root.put_json("/locations/WH1/@@acl", {"entries": [grant("group:c", "role:stock.clerk")]})
    root.put_json("/locations/WH2/@@acl", {"entries": [grant("group:c", "role:looker")]})
    clerk = as_principal("user:c", "group:c")
    with sql_counter() as counter:
        clerk.get("/locations/WH1", status=200)
    assert not [s for s in counter.statements if "acl_roles" in s]
    with sql_counter() as counter:
        clerk.get("/locations/WH2", status=200)
    assert len([s for s in counter.statements if "acl_roles" in s]) == 1


def test_narrowing_a_code_default_is_one_deny_that_spares_superusers(
    root: Any, as_principal: Any, make_user: Any
) -> None:
    """/auth allows every authenticated user auth.self by code; one stored Deny
    before it narrows that, and cannot lock superusers out."""
    user = as_principal("user:una")
    user.get("/auth/whoami", status=200)
    preview = root.put_json(
        "/auth/@@acl?dry_run=true",
        {"entries": [grant("system.Authenticated", "auth.self", "Deny")]},
    ).json["changes"]
    assert {
        "principal": "system.Authenticated",
        "permission": "auth.self",
        "resource": "/auth",
        "before": "Allow",
        "after": "Deny",
    } in preview
    root.put_json("/auth/@@acl", {"entries": [grant("system.Authenticated", "auth.self", "Deny")]})
    user.get("/auth/whoami", status=403)
    root.get("/auth/whoami", status=200)
    make_user("una")
    make_user("boss", "admins")
    assert root.get("/auth/@@who?permission=auth.self").json["users"] == ["boss"]
