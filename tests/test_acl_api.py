"""Administering permissions over HTTP: @@acl, @@permissions, @@grants, @@audit."""

from __future__ import annotations

from typing import Any

import pytest

from plinth.testing import acl_entry as grant


@pytest.fixture
def root(as_principal: Any) -> Any:
    return as_principal("user:root", "group:admins")


def test_acl_of_root_shows_code_default(root: Any) -> None:
    body = root.get("/@@acl").json
    assert body["resource"] == "/"
    assert body["entries"] == []
    assert body["defaults"] == [
        {
            "action": "Allow",
            "principal": "group:admins",
            "permission": "ALL",
            "position": 0,
            "source": "default",
        }
    ]
    assert body["inherit"] is True


def test_put_acl_and_read_it_back_with_inheritance(root: Any) -> None:
    entries = [grant("group:receivers", "stock.receive"), grant("user:eve", "stock.view", "Deny")]
    response = root.put_json("/locations/WH1/@@acl", {"entries": entries})
    assert response.json["entries"] == [
        {**entries[0], "position": 0, "source": "stored"},
        {**entries[1], "position": 1, "source": "stored"},
    ]
    body = root.get("/locations/WH1/A-1/@@acl").json
    assert body["resource"] == "/locations/WH1/A-1"
    inherited = {acl["resource"]: acl for acl in body["inherited"]}
    assert [e["principal"] for e in inherited["/locations/WH1"]["entries"]] == [
        "group:receivers",
        "user:eve",
    ]
    assert inherited["/"]["entries"][0]["source"] == "default"


def test_inherit_false_hides_parents(root: Any, as_principal: Any) -> None:
    clerk = as_principal("user:cy", "group:clerks")
    boss = as_principal("user:bo", "group:bosses")
    root.put_json("/@@acl", {"entries": [grant("group:bosses", "stock.view")]})
    root.put_json("/stock/@@acl", {"entries": [grant("group:clerks", "stock.view")]})
    clerk.get("/stock", status=200)
    boss.get("/stock", status=200)
    keep_managing = [grant("group:clerks", "acl.view")]
    root.put_json("/stock/@@acl", {"entries": keep_managing, "inherit": False})
    body = root.get("/stock/@@acl").json
    assert body["inherit"] is False and body["inherited"] == []
    # nothing is inherited from the root any more: not the bosses' grant...
    clerk.get("/stock", status=403)
    boss.get("/stock", status=403)
    # ...but superusers hold every permission whatever the entries say
    root.get("/stock", status=200)
    root.put_json("/stock/@@acl", {"entries": [], "inherit": True})
    boss.get("/stock", status=200)


def test_etag_and_if_match(root: Any) -> None:
    etag = root.get("/stock/@@acl").headers["ETag"]
    root.put_json("/stock/@@acl", {"entries": []}, headers={"If-Match": etag}, status=200)
    response = root.put_json(
        "/stock/@@acl",
        {"entries": [grant("user:a", "stock.view")]},
        headers={"If-Match": etag},
        status=412,
    )
    assert response.json["error"] == "precondition_failed"
    assert root.get("/stock/@@acl").json["entries"] == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"entries": [grant("user:a", "no.such.permission")]}, "entries/0/permission"),
        ({"entries": [grant("alice", "stock.view")]}, "entries/0/principal"),
        ({"entries": [grant("system.Nobody", "stock.view")]}, "entries/0/principal"),
        ({"entries": [grant("user:admin\n", "stock.view")]}, "entries/0/principal"),
        ({"entries": [grant("group:admins\n", "stock.view")]}, "entries/0/principal"),
        (
            {"entries": [{"action": "Maybe", "principal": "user:a", "permission": "stock.view"}]},
            "entries/0/action",
        ),
        ({"entries": [{"principal": "user:a", "permission": "stock.view"}]}, "entries/0/action"),
        ({"entries": "all"}, "entries"),
        ({"inherit": True}, "entries"),
        ({"entries": [], "inherit": "no"}, "inherit"),
        ({"entries": [], "extra": 1}, "extra"),
    ],
)
def test_bad_acl_is_400_and_changes_nothing(root: Any, body: dict[str, Any], field: str) -> None:
    response = root.put_json("/stock/@@acl", body, status=400)
    fields = [e["field"] for e in response.json["details"]["errors"]]
    assert field in fields
    assert root.get("/stock/@@acl").json["etag"] == "acl-0"


def test_cannot_remove_the_last_acl_manager(build_app: Any, sign_in: Any) -> None:
    # Without superusers the root's ACL is all that keeps administrators in.
    app = build_app("auth", **{"plinth.superusers": ""})
    headers = sign_in(app, "root", "admins")
    deny_admins = [grant("group:admins", "acl.manage", "Deny")]
    response = app.put_json("/@@acl", {"entries": deny_admins}, headers=headers, status=409)
    assert response.json["error"] == "last_acl_manager"
    app.put_json(
        "/@@acl",
        {"entries": [grant("user:root", "acl.manage"), *deny_admins]},
        headers=headers,
        status=200,
    )
    app.put_json("/@@acl", {"entries": [], "inherit": False}, headers=headers, status=200)


def test_superusers_cannot_be_locked_out_of_the_root(root: Any) -> None:
    deny_admins = [grant("group:admins", "ALL", "Deny")]
    root.put_json("/@@acl", {"entries": deny_admins, "inherit": False}, status=200)
    root.put_json("/@@acl", {"entries": []}, status=200)


def test_acl_management_needs_acl_manage(as_principal: Any, root: Any) -> None:
    viewer = as_principal("user:v", "group:auditors")
    root.put_json("/@@acl", {"entries": [grant("group:auditors", "acl.view")]})
    viewer.get("/stock/@@acl", status=200)
    viewer.put_json("/stock/@@acl", {"entries": []}, status=403)
    as_principal("user:nobody").get("/stock/@@acl", status=403)


def test_acl_is_not_a_plain_view_name(root: Any) -> None:
    # without the @@ the name is a child: /stock/acl is an item, not the ACL
    root.get("/stock/acl", status=404)


def test_permissions_explains_decisions(root: Any, as_principal: Any, make_user: Any) -> None:
    make_user("pat", "receivers")
    root.put_json("/locations/WH1/@@acl", {"entries": [grant("group:receivers", "stock.receive")]})
    body = root.get("/locations/WH1/A-1/@@permissions?principal=user:pat").json
    assert "group:receivers" in body["principals"]
    decisions = {p["permission"]: p for p in body["permissions"]}
    receive = decisions["stock.receive"]
    assert receive["allowed"] is True
    assert receive["decided_by"] == {
        "resource": "/locations/WH1",
        "position": 0,
        "action": "Allow",
        "principal": "group:receivers",
        "permission": "stock.receive",
        "source": "stored",
    }
    assert decisions["stock.issue"] == {
        "permission": "stock.issue",
        "allowed": False,
        "decided_by": None,
        "role": None,
        "superuser": None,
        "explanation": "no entry matched: denied by default",
    }
    one = root.get(
        "/locations/WH2/A-1/@@permissions?principal=user:pat&permission=stock.receive"
    ).json["permissions"]
    assert len(one) == 1 and one[0]["allowed"] is False
    root.get("/@@permissions?principal=user:ghost", status=404)
    root.get("/@@permissions?permission=bogus", status=400)
    mine = root.get("/@@permissions?permission=acl.manage").json
    assert mine["principal"] == "user:root" and mine["permissions"][0]["allowed"] is True


def test_grants_lists_where_a_principal_appears(root: Any) -> None:
    root.put_json("/locations/WH1/@@acl", {"entries": [grant("user:q", "stock.receive")]})
    root.put_json("/stock/@@acl", {"entries": [grant("user:q", "stock.view")]})
    grants = root.get("/@@grants?principal=user:q").json["grants"]
    assert [g["resource"] for g in grants] == ["/locations/WH1", "/stock"]
    root.get("/@@grants", status=400)


def test_audit_records_acl_changes_with_before_and_after(root: Any) -> None:
    root.put_json(
        "/stock/@@acl",
        {"entries": [grant("user:a", "stock.view")]},
        headers={"X-Request-ID": "req-1"},
    )
    root.put_json("/stock/@@acl", {"entries": []})
    items = root.get("/@@audit?kind=acl.changed&resource=/stock").json["items"]
    assert len(items) == 2
    newest, oldest = items
    assert (
        oldest["before"]["entries"] == [] and oldest["after"]["entries"][0]["principal"] == "user:a"
    )
    assert oldest["actor"] == "user:root" and oldest["request_id"] == "req-1"
    assert newest["after"]["entries"] == []
    page = root.get("/@@audit?limit=1").json
    assert len(page["items"]) == 1 and page["next_cursor"]
    root.get("/@@audit?since=yesterday", status=400)
    root.get("/@@audit?limit=0", status=400)
    root.get("/@@audit?cursor=garbage!", status=400)
    assert root.get("/@@audit?actor=user:nobody").json["items"] == []


def test_audit_cannot_be_changed(root: Any) -> None:
    root.put_json("/@@audit", {"entries": []}, status="4*")
    root.delete("/@@audit", status="4*")


def test_lineage_is_one_statement_whatever_the_depth(
    as_principal: Any, root: Any, sql_counter: Any
) -> None:
    root.put_json("/locations/WH1/@@acl", {"entries": [grant("group:v", "stock.view")]})
    viewer = as_principal("user:v", "group:v")
    for path in ("/stock", "/locations/WH1", "/locations/WH1/A-1/movements"):
        with sql_counter() as counter:
            viewer.get(path, status="*")
        acl_queries = [s for s in counter.statements if "acl_resources" in s]
        assert len(acl_queries) == 1, (path, counter.statements)
