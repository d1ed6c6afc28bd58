"""Users and groups in the console: create, memberships, disable, under the API's limits."""

from __future__ import annotations

from typing import Any

import pytest

from plinth_admin.testing import csrf_of
from plinth_auth.testing import PASSWORD

NEW_PASSWORD = "a-fresh-and-long-passphrase-42"


def panel_post(app: Any, path: str, status: int = 303, **fields: Any) -> Any:
    fields.setdefault("csrf_token", csrf_of(app.get(path)))
    return app.post(f"{path}/@@panel", fields, status=status)


def groups_of(testapp: Any, admin: Any, name: str) -> list[str]:
    return sorted(testapp.get(f"/auth/users/{name}", headers=admin).json["groups"])


def user_names(testapp: Any, admin: Any) -> list[str]:
    return [u["name"] for u in testapp.get("/auth/users", headers=admin).json["items"]]


@pytest.fixture
def delegate(testapp: Any, admin: Any, make_user: Any, console: Any) -> Any:
    """dora holds auth.manage on /auth and is in staff: the API limits her."""
    testapp.put_json(
        "/auth/@@acl",
        {"entries": [{"action": "Allow", "principal": "group:staff", "permission": "auth.manage"}]},
        headers=admin,
    )
    make_user("dora", "staff")
    return console("dora")


def test_a_superuser_creates_a_user_who_can_then_sign_in(
    testapp: Any, admin: Any, make_user: Any, console: Any, login: Any
) -> None:
    make_user("root", "admins")
    app = console("root")
    page = app.get("/admin/auth/users")
    assert 'id="new-user-form"' in page.text
    done = panel_post(
        app,
        "/admin/auth/users",
        panel="auth.new-user",
        name="nina",
        password=NEW_PASSWORD,
        groups="clerks, receivers",
    )
    assert done.headers["Location"].endswith("/admin/auth/users/nina")
    assert groups_of(testapp, admin, "nina") == ["clerks", "receivers"]
    login("nina", NEW_PASSWORD)
    audit = testapp.get("/@@audit?kind=user.created", headers=admin).json["items"]
    assert audit[0]["actor"] == "user:root" and "nina" in audit[0]["resource"]


@pytest.mark.parametrize(
    ("fields", "status", "message"),
    [
        ({"name": "admin", "password": NEW_PASSWORD}, 409, "There is already a user"),
        ({"name": "bad name", "password": NEW_PASSWORD}, 400, "name"),
        ({"name": "nina", "password": ""}, 400, "needs a name and a password"),
        ({"name": "nina", "password": "short"}, 400, "password"),
        (
            {"name": "nina", "password": NEW_PASSWORD, "groups": "ok bad/group"},
            400,
            "does not match",
        ),
        ({"name": "", "password": NEW_PASSWORD}, 400, "needs a name and a password"),
    ],
)
def test_bad_new_user_forms_are_shown_and_write_nothing(
    testapp: Any,
    admin: Any,
    make_user: Any,
    console: Any,
    fields: dict[str, str],
    status: int,
    message: str,
) -> None:
    make_user("root", "admins")
    before = user_names(testapp, admin)
    page = panel_post(
        console("root"),
        "/admin/auth/users",
        status=status,
        panel="auth.new-user",
        groups=fields.pop("groups", "clerks"),
        **fields,
    )
    panel = page.text.split('id="panel-auth.new-user"')[1]
    assert 'class="error" role="alert"' in panel and message in panel
    assert f'value="{fields["name"]}"' in panel  # what was typed is kept
    assert user_names(testapp, admin) == before


def test_memberships_change_on_the_user_page(
    testapp: Any, admin: Any, make_user: Any, console: Any
) -> None:
    make_user("root", "admins")
    make_user("rita", "clerks")
    app = console("root")
    page = app.get("/admin/auth/users/rita")
    assert page.forms["groups-form"]["groups"].value == "clerks"
    panel_post(
        app, "/admin/auth/users/rita", panel="auth.user", do="groups", groups="receivers night"
    )
    assert groups_of(testapp, admin, "rita") == ["night", "receivers"]


def test_members_are_added_and_removed_on_the_group_page(
    testapp: Any, admin: Any, make_user: Any, console: Any
) -> None:
    make_user("root", "admins")
    make_user("rita", "clerks")
    make_user("otto", "clerks", "drivers")
    app = console("root")
    panel_post(app, "/admin/auth/groups/drivers", panel="auth.group", do="add", member="rita")
    assert groups_of(testapp, admin, "rita") == ["clerks", "drivers"]
    panel_post(app, "/admin/auth/groups/clerks", panel="auth.group", do="remove", member="otto")
    assert groups_of(testapp, admin, "otto") == ["drivers"]
    page = panel_post(
        app, "/admin/auth/groups/clerks", status=400, panel="auth.group", do="add", member="ghost"
    )
    assert "There is no such user" in page.text
    page = panel_post(
        app,
        "/admin/auth/groups/clerks",
        status=400,
        panel="auth.group",
        do="promote",
        member="rita",
    )
    assert "Unknown action" in page.text
    assert groups_of(testapp, admin, "rita") == ["clerks", "drivers"]


def test_a_delegate_is_limited_as_on_the_api(
    testapp: Any, admin: Any, make_user: Any, delegate: Any
) -> None:
    make_user("rita", "staff")
    # within the limits: a new user in the delegate's own group
    panel_post(
        delegate,
        "/admin/auth/users",
        panel="auth.new-user",
        name="nina",
        password=NEW_PASSWORD,
        groups="staff",
    )
    assert groups_of(testapp, admin, "nina") == ["staff"]
    refusals = [
        (
            "/admin/auth/users",
            {"panel": "auth.new-user", "name": "eve", "password": NEW_PASSWORD, "groups": "admins"},
        ),
        (
            "/admin/auth/users/rita",
            {"panel": "auth.user", "do": "groups", "groups": "staff admins"},
        ),
        ("/admin/auth/users/admin", {"panel": "auth.user", "do": "disable"}),
        ("/admin/auth/users/admin", {"panel": "auth.user", "do": "groups", "groups": ""}),
        ("/admin/auth/groups/staff", {"panel": "auth.group", "do": "add", "member": "admin"}),
    ]
    for path, fields in refusals:
        page = panel_post(delegate, path, status=403, **fields)
        assert 'class="error" role="alert"' in page.text, path
    assert "eve" not in user_names(testapp, admin)
    assert groups_of(testapp, admin, "rita") == ["staff"]
    assert groups_of(testapp, admin, "admin") == ["admins"]
    testapp.get("/auth/whoami", headers=admin, status=200)


def test_the_last_superuser_keeps_its_group(
    make_user: Any, console: Any, login: Any, testapp: Any
) -> None:
    make_user("root", "admins")
    app = console("root")
    page = panel_post(
        app, "/admin/auth/users/root", status=409, panel="auth.user", do="groups", groups="clerks"
    )
    assert "last" in page.text.split('id="panel-auth.user"')[1]
    bearer = login("root", PASSWORD)
    assert testapp.get("/auth/users/root", headers=bearer).json["groups"] == ["admins"]


def test_user_forms_need_auth_manage_and_csrf(
    testapp: Any, admin: Any, make_user: Any, console: Any
) -> None:
    make_user("root", "admins")
    make_user("rita", "clerks")
    panel_post(
        console("rita"),
        "/admin/auth/tokens",
        status=403,
        panel="auth.new-user",
        name="nina",
        password=NEW_PASSWORD,
    )
    panel_post(
        console("root"),
        "/admin/auth/users",
        status=403,
        csrf_token="",
        panel="auth.new-user",
        name="nina",
        password=NEW_PASSWORD,
    )
    assert "nina" not in user_names(testapp, admin)
