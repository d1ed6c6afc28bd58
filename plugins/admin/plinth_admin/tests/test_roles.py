"""The roles page: everyone with acl.view reads it; superusers change stored roles."""

from __future__ import annotations

from typing import Any

import pytest

from plinth_admin.testing import csrf_of


def roles_of(testapp: Any, admin: Any) -> dict[str, dict[str, Any]]:
    return {r["name"]: r for r in testapp.get("/@@roles", headers=admin).json["items"]}


def post_role(app: Any, status: int = 303, **fields: Any) -> Any:
    fields.setdefault("csrf_token", csrf_of(app.get("/admin/@@roles")))
    return app.post("/admin/@@roles", fields, status=status)


def test_the_page_lists_declared_and_stored_roles(
    testapp: Any, admin: Any, make_user: Any, console: Any
) -> None:
    testapp.put_json(
        "/@@roles/night.shift",
        {"title": "Night shift", "permissions": ["stock.view"]},
        headers=admin,
    )
    make_user("root", "admins")
    page = console("root").get("/admin/@@roles", status=200)
    assert "<td>stock.clerk</td>" in page.text and "<td>declared</td>" in page.text
    assert "<td>night.shift</td><td>Night shift</td><td>stock.view</td><td>stored</td>" in page.text
    assert 'id="role-form"' in page.text


def test_a_superuser_adds_edits_and_deletes_a_role(
    testapp: Any, admin: Any, make_user: Any, console: Any
) -> None:
    make_user("root", "admins")
    app = console("root")
    post_role(
        app,
        do="save",
        name="night.shift",
        title="Night shift",
        permissions=["stock.view", "stock.receive"],
    )
    assert roles_of(testapp, admin)["night.shift"]["permissions"] == ["stock.receive", "stock.view"]
    form = app.get("/admin/@@roles?edit=night.shift").forms["role-form"]
    assert form["name"].value == "night.shift" and form["title"].value == "Night shift"
    checked = [f.value for f in form.fields["permissions"] if f.checked]
    assert sorted(checked) == ["stock.receive", "stock.view"]
    for field in form.fields["permissions"]:
        # WebTest's checkbox value reads None when unchecked; its own value is _value.
        field.checked = field._value == "stock.view"
    form.submit(status=303)
    assert roles_of(testapp, admin)["night.shift"]["permissions"] == ["stock.view"]
    post_role(app, do="delete", name="night.shift")
    assert "night.shift" not in roles_of(testapp, admin)
    kinds = [
        e["kind"]
        for e in testapp.get("/@@audit?resource=role:night.shift", headers=admin).json["items"]
    ]
    assert kinds == ["role.deleted", "role.saved", "role.saved"]


@pytest.mark.parametrize(
    ("fields", "status", "message"),
    [
        (
            {"do": "save", "name": "stock.clerk", "permissions": ["stock.view"]},
            409,
            "declared by a plugin",
        ),
        ({"do": "delete", "name": "stock.clerk"}, 409, "declared by a plugin"),
        ({"do": "save", "name": "Bad Name", "permissions": ["stock.view"]}, 400, "bad role name"),
        ({"do": "save", "name": "x", "permissions": []}, 400, "Choose at least one permission"),
        (
            {"do": "save", "name": "x", "permissions": ["stock.fly"]},
            400,
            "unknown permission &#39;stock.fly&#39;",
        ),
        (
            {"do": "save", "name": "x", "title": "t" * 201, "permissions": ["stock.view"]},
            400,
            "is too long",
        ),
        ({"do": "delete", "name": "ghost"}, 404, "no stored role"),
        ({"do": "rename", "name": "x"}, 400, "Unknown action"),
    ],
)
def test_bad_role_forms_are_shown_and_change_nothing(
    testapp: Any,
    admin: Any,
    make_user: Any,
    console: Any,
    fields: dict[str, Any],
    status: int,
    message: str,
) -> None:
    make_user("root", "admins")
    before = roles_of(testapp, admin)
    page = post_role(console("root"), status=status, **fields)
    assert message in page.text
    assert 'id="role-form"' in page.text
    assert roles_of(testapp, admin) == before


def test_a_role_in_use_cannot_be_deleted(
    testapp: Any, admin: Any, make_user: Any, console: Any
) -> None:
    testapp.put_json("/@@roles/night.shift", {"permissions": ["stock.view"]}, headers=admin)
    testapp.put_json("/locations/WH1", {"name": "Store"}, headers=admin)
    testapp.put_json(
        "/locations/WH1/@@acl",
        {
            "entries": [
                {"action": "Allow", "principal": "group:night", "permission": "role:night.shift"}
            ]
        },
        headers=admin,
    )
    make_user("root", "admins")
    page = post_role(console("root"), status=409, do="delete", name="night.shift")
    assert "name role:night.shift: revoke them first" in page.text
    assert "night.shift" in roles_of(testapp, admin)


def test_only_superusers_change_roles(
    testapp: Any, admin: Any, make_user: Any, console: Any
) -> None:
    testapp.put_json(
        "/@@acl",
        {
            "entries": [
                {"action": "Allow", "principal": "group:admins", "permission": "ALL"},
                {"action": "Allow", "principal": "group:keepers", "permission": "acl.manage"},
                {"action": "Allow", "principal": "group:keepers", "permission": "acl.view"},
                {"action": "Allow", "principal": "group:viewers", "permission": "acl.view"},
            ]
        },
        headers=admin,
    )
    make_user("kim", "keepers")
    make_user("vera", "viewers")
    make_user("rita", "clerks")
    keeper = console("kim")
    page = keeper.get("/admin/@@roles", status=200)
    assert "<td>stock.clerk</td>" in page.text and 'id="role-form"' not in page.text
    refused = post_role(keeper, status=403, do="save", name="mine", permissions=["stock.view"])
    assert "Only superusers change roles" in refused.text
    post_role(console("vera"), status=403, do="save", name="mine", permissions=["stock.view"])
    assert "mine" not in roles_of(testapp, admin)
    console("rita").get("/admin/@@roles", status=403)


def test_a_role_form_without_its_csrf_token_is_refused(
    testapp: Any, admin: Any, make_user: Any, console: Any
) -> None:
    make_user("root", "admins")
    post_role(
        console("root"), status=403, csrf_token="", do="save", name="x", permissions=["stock.view"]
    )
    assert "x" not in roles_of(testapp, admin)
