"""Resource pages: what they show to whom, and the ACL forms."""

from __future__ import annotations

import re
from typing import Any

import pytest

from plinth_admin.testing import csrf_of

ETAG = re.compile(r'name="etag" value="([^"]+)"')


@pytest.fixture
def stocked(testapp: Any, admin: Any) -> dict[str, str]:
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


def grant(testapp: Any, admin: Any, path: str, *entries: tuple[str, str, str]) -> None:
    testapp.put_json(
        f"{path}/@@acl",
        {"entries": [{"action": a, "principal": p, "permission": perm} for a, p, perm in entries]},
        headers=admin,
        status=200,
    )


def acl_preview(app: Any, page_path: str, edit: str, status: int = 200, **fields: Any) -> Any:
    """Send an ACL form from the page at ``page_path``, as a browser would; the preview."""
    page = app.get(page_path)
    fields.setdefault("csrf_token", csrf_of(page))
    match = ETAG.search(page.text)
    fields.setdefault("etag", match.group(1) if match else "")
    return app.post(f"{page_path.rstrip('/')}/@@acl-edit", {"edit": edit, **fields}, status=status)


def acl_edit(app: Any, page_path: str, edit: str, status: int = 303, **fields: Any) -> Any:
    """Send an ACL form as a browser would: the preview, then its confirm button.

    ``status`` is the answer expected at the first step that fails, or 303
    when the change is saved.
    """
    preview = acl_preview(app, page_path, edit, 200 if status == 303 else status, **fields)
    if status != 303:
        return preview
    assert 'id="preview"' in preview.text
    return preview.forms["confirm-form"].submit(status=303)


PAGES = [
    "/admin/",
    "/admin/locations",
    "/admin/locations/WH1",
    "/admin/locations/WH1/A-1",
    "/admin/stock",
    "/admin/stock/A-1",
    "/admin/auth",
    "/admin/auth/users",
    "/admin/auth/users/root",
    "/admin/auth/groups",
    "/admin/auth/groups/admins",
    "/admin/auth/tokens",
    "/admin/reports",
    "/admin/reports/low-stock",
    "/admin/reservations",
    "/admin/@@audit",
    "/admin/@@plugins",
    "/admin/@@roles",
]


@pytest.mark.parametrize("path", PAGES)
def test_every_page_type_renders_for_a_superuser(
    stocked: Any, make_user: Any, console: Any, path: str
) -> None:
    make_user("root", "admins")
    page = console("root").get(path, status=200)
    assert "<h1>" in page.text and "Sign out" in page.text


def test_root_page_lists_mounted_children_with_breadcrumbs(make_user: Any, console: Any) -> None:
    make_user("root", "admins")
    page = console("root").get("/admin/locations/WH1/A-1")
    crumbs = re.findall(r'<li><a href="([^"]+)"', page.text.split("</nav>", 2)[1])
    assert crumbs == [
        "/admin/",
        "/admin/locations",
        "/admin/locations/WH1",
        "/admin/locations/WH1/A-1",
    ]
    root = console("root").get("/admin/")
    for child in ("auth", "locations", "reports", "reservations", "stock"):
        assert f'href="/admin/{child}"' in root.text


def test_children_leave_out_what_the_viewer_may_not_view(
    stocked: Any, testapp: Any, make_user: Any, console: Any
) -> None:
    make_user("rita", "clerks")
    grant(testapp, stocked, "/locations", ("Allow", "group:clerks", "stock.view"))
    grant(testapp, stocked, "/locations/WH2", ("Deny", "user:rita", "stock.view"))
    page = console("rita").get("/admin/locations", status=200)
    assert 'href="/admin/locations/WH1"' in page.text
    assert "WH2" not in page.text


def test_children_are_paginated(stocked: Any, testapp: Any, make_user: Any, console: Any) -> None:
    from plinth_admin.views.pages import CHILDREN_PAGE

    for number in range(CHILDREN_PAGE):
        testapp.put_json(f"/locations/L{number:03d}", {"name": "x"}, headers=stocked)
    make_user("root", "admins")
    app = console("root")
    first = app.get("/admin/locations")
    assert first.text.count('<li><a href="/admin/locations/') == CHILDREN_PAGE
    assert "WH1" not in first.text
    next_url = re.search(r'<a href="([^"]+)" rel="next">', first.text).group(1)
    second = app.get(next_url.replace("&amp;", "&"))
    assert 'href="/admin/locations/WH1"' in second.text
    assert 'href="/admin/locations/WH2"' in second.text
    assert 'rel="next"' not in second.text


def child_pages(app: Any, url: str) -> list[list[str]]:
    """The names on each page of a children listing, following its next links."""
    pages = []
    while url:
        page = app.get(url).text.split('id="children"')[1].split("</section>")[0]
        pages.append(re.findall(r'<li><a href="/admin/locations/([^"]+)">', page))
        found = re.search(r'<a href="([^"]+)" rel="next">', page)
        url = found.group(1).replace("&amp;", "&") if found else None
    return pages


def test_pages_of_children_hold_only_visible_ones(
    stocked: Any, testapp: Any, make_user: Any, console: Any, monkeypatch: Any
) -> None:
    from plinth_admin.views import pages

    monkeypatch.setattr(pages, "CHILDREN_PAGE", 2)
    for code in ("A1", "A2", "A3", "A4", "A5"):
        testapp.put_json(f"/locations/{code}", {"name": "x"}, headers=stocked)
    make_user("rita", "clerks")
    grant(testapp, stocked, "/locations", ("Allow", "group:clerks", "stock.view"))
    for code in ("A2", "A3", "WH2"):
        grant(testapp, stocked, f"/locations/{code}", ("Deny", "user:rita", "stock.view"))
    assert child_pages(console("rita"), "/admin/locations") == [["A1", "A4"], ["A5", "WH1"]]
    make_user("root", "admins")
    assert [name for page in child_pages(console("root"), "/admin/locations") for name in page] == [
        "A1",
        "A2",
        "A3",
        "A4",
        "A5",
        "WH1",
        "WH2",
    ]


def test_a_page_of_children_reads_a_bounded_number_of_them(
    stocked: Any, testapp: Any, make_user: Any, console: Any, monkeypatch: Any
) -> None:
    from plinth_admin.views import pages

    monkeypatch.setattr(pages, "CHILDREN_PAGE", 2)
    monkeypatch.setattr(pages, "SCAN_BATCHES", 1)
    for code in ("A1", "A2", "A3"):
        testapp.put_json(f"/locations/{code}", {"name": "x"}, headers=stocked)
    make_user("rita", "clerks")
    grant(testapp, stocked, "/locations", ("Allow", "group:clerks", "stock.view"))
    for code in ("A1", "A2", "A3", "WH1"):
        grant(testapp, stocked, f"/locations/{code}", ("Deny", "user:rita", "stock.view"))
    app = console("rita")
    first = app.get("/admin/locations").text
    assert "None that you may see among these; there are more." in first
    assert child_pages(app, "/admin/locations") == [[], [], ["WH2"]]


def test_a_page_needs_the_same_permission_as_the_api(
    stocked: Any, testapp: Any, make_user: Any, console: Any, login: Any
) -> None:
    make_user("rita", "clerks")
    app = console("rita")
    bearer = login("rita")
    testapp.get("/locations/WH1", headers=bearer, status=403)
    app.get("/admin/locations/WH1", status=403)
    app.get("/admin/locations/NOPE", status=403)  # missing or not: the same answer
    grant(testapp, stocked, "/locations/WH1", ("Allow", "group:clerks", "stock.view"))
    testapp.get("/locations/WH1", headers=bearer, status=200)
    app.get("/admin/locations/WH1", status=200)
    app.get("/admin/locations/WH2", status=403)


def test_no_acl_panel_without_acl_view(
    stocked: Any, testapp: Any, make_user: Any, console: Any
) -> None:
    make_user("rita", "clerks")
    grant(testapp, stocked, "/locations", ("Allow", "group:clerks", "stock.view"))
    page = console("rita").get("/admin/locations/WH1", status=200)
    assert 'id="acl"' not in page.text and "Access control" not in page.text
    assert "acl-edit" not in page.text


def test_acl_view_shows_the_acl_without_forms(
    stocked: Any, testapp: Any, make_user: Any, console: Any
) -> None:
    make_user("vera", "viewers")
    grant(
        testapp,
        stocked,
        "/locations",
        ("Allow", "group:viewers", "stock.view"),
        ("Allow", "group:viewers", "acl.view"),
    )
    page = console("vera").get("/admin/locations/WH1", status=200)
    assert "Access control" in page.text
    assert "Inherited from" in page.text and "group:viewers" in page.text
    # No form posts an ACL change (a bare "add" could be part of a random token).
    assert "acl-edit" not in page.text and 'value="add"' not in page.text
    acl_edit(
        console("vera"),
        "/admin/locations/WH1",
        "add",
        status=403,
        action="Allow",
        principal="group:viewers",
        permission="stock.issue",
    )
    assert testapp.get("/locations/WH1/@@acl", headers=stocked).json["entries"] == []


def test_grant_through_the_form_is_audited_and_explained(
    stocked: Any, testapp: Any, make_user: Any, console: Any
) -> None:
    make_user("root", "admins")
    make_user("rita", "receivers")
    app = console("root")
    acl_edit(
        app,
        "/admin/locations/WH1",
        "add",
        action="Allow",
        principal="group:receivers",
        permission="stock.receive",
    )
    acl = testapp.get("/locations/WH1/@@acl", headers=stocked).json
    assert [(e["action"], e["principal"], e["permission"]) for e in acl["entries"]] == [
        ("Allow", "group:receivers", "stock.receive")
    ]
    audit = testapp.get("/@@audit?kind=acl.changed&resource=/locations/WH1", headers=stocked).json[
        "items"
    ]
    assert audit[0]["actor"] == "user:root"
    page = app.get("/admin/locations/WH1/A-1?principal=user:rita&permission=stock.receive")
    explanation = page.text.split('id="explanation"')[1]
    assert "group:receivers" in explanation and "/locations/WH1" in explanation
    assert "<td>yes</td>" in explanation
    other = app.get("/admin/locations/WH2?principal=user:rita&permission=stock.receive")
    assert "<td>no</td>" in other.text.split('id="explanation"')[1]
    audit_page = app.get("/admin/@@audit?kind=acl.changed")
    assert "group:receivers" in audit_page.text


def test_the_preview_shows_what_flips_and_writes_nothing(
    stocked: Any, testapp: Any, make_user: Any, console: Any
) -> None:
    make_user("root", "admins")
    make_user("rita", "receivers")
    app = console("root")
    preview = acl_preview(
        app,
        "/admin/locations/WH1",
        "add",
        action="Allow",
        principal="group:receivers",
        permission="stock.receive",
    )
    flips = preview.text.split('id="preview"')[1].split("</table>")[0]
    # the group, and rita through it, at WH1 and at the level below it
    for row in (
        (
            "<td>group:receivers</td><td>stock.receive</td><td>/locations/WH1</td>"
            "<td>Deny</td><td>Allow</td>"
        ),
        "<td>user:rita</td><td>stock.receive</td><td>/locations/WH1</td>",
    ):
        assert row in flips
    assert "user:root" not in flips  # a superuser never flips
    assert testapp.get("/locations/WH1/@@acl", headers=stocked).json["entries"] == []
    assert testapp.get("/@@audit?kind=acl.changed", headers=stocked).json["items"] == []
    preview.forms["confirm-form"].submit(status=303)
    assert [
        e["principal"] for e in testapp.get("/locations/WH1/@@acl", headers=stocked).json["entries"]
    ] == ["group:receivers"]


def test_a_preview_that_flips_nothing_says_so(stocked: Any, make_user: Any, console: Any) -> None:
    make_user("root", "admins")
    app = console("root")
    preview = acl_preview(
        app,
        "/admin/locations/WH1",
        "add",
        action="Deny",
        principal="group:nobody",
        permission="stock.view",
    )
    assert "This change flips no decision" in preview.text


def test_a_change_made_since_the_preview_is_refused(
    stocked: Any, testapp: Any, make_user: Any, console: Any
) -> None:
    make_user("root", "admins")
    app = console("root")
    preview = acl_preview(
        app,
        "/admin/locations/WH1",
        "add",
        action="Allow",
        principal="group:a",
        permission="stock.view",
    )
    grant(testapp, stocked, "/locations/WH1", ("Allow", "group:b", "stock.view"))
    refused = preview.forms["confirm-form"].submit(status=412)
    assert "changed since" in refused.text
    assert [
        e["principal"] for e in testapp.get("/locations/WH1/@@acl", headers=stocked).json["entries"]
    ] == ["group:b"]


def test_an_unknown_acl_edit_is_400(
    stocked: Any, testapp: Any, make_user: Any, console: Any
) -> None:
    make_user("root", "admins")
    page = acl_edit(console("root"), "/admin/locations/WH1", "shuffle", status=400)
    assert "Unknown change" in page.text
    assert testapp.get("/locations/WH1/@@acl", headers=stocked).json["entries"] == []


def test_roles_are_offered_in_the_add_form(
    stocked: Any, testapp: Any, make_user: Any, console: Any
) -> None:
    make_user("root", "admins")
    app = console("root")
    assert "<option>role:stock.clerk</option>" in app.get("/admin/locations/WH1").text
    acl_edit(
        app,
        "/admin/locations/WH1",
        "add",
        action="Allow",
        principal="group:clerks",
        permission="role:stock.clerk",
    )
    assert (
        testapp.get("/locations/WH1/@@acl", headers=stocked).json["entries"][0]["permission"]
        == "role:stock.clerk"
    )


@pytest.mark.parametrize("path", [p for p in PAGES if "@@" not in p])
def test_every_resource_page_explains_and_answers_who_may(
    stocked: Any, make_user: Any, console: Any, path: str
) -> None:
    make_user("root", "admins")
    page = console("root").get(path, status=200)
    assert 'id="explain"' in page.text and 'id="who"' in page.text


def test_who_may_lists_the_users_allowed_here(
    stocked: Any, testapp: Any, make_user: Any, console: Any
) -> None:
    make_user("root", "admins")
    make_user("rita", "receivers")
    make_user("otto", "others")
    grant(testapp, stocked, "/locations/WH1", ("Allow", "group:receivers", "role:stock.clerk"))
    page = console("root").get("/admin/locations/WH1/A-1?who=stock.receive")
    answer = page.text.split('id="who-answer"')[1]
    assert "<td>rita</td>" in answer and "<td>otto</td>" not in answer
    assert "group:receivers" in answer and "through role stock.clerk" in answer
    assert "superuser (plinth.superusers)" in answer


def test_who_may_is_paginated(
    stocked: Any, testapp: Any, make_user: Any, console: Any, monkeypatch: Any
) -> None:
    from plinth_admin.views import acl_panel

    monkeypatch.setattr(acl_panel, "WHO_PAGE", 2)  # a short page, to need few users
    grant(testapp, stocked, "/locations/WH1", ("Allow", "system.Authenticated", "stock.view"))
    for name in ("root", "ann", "bob"):
        make_user(name, "admins" if name == "root" else "staff")
    app = console("root")
    url, seen, pages_read = "/admin/locations/WH1?who=stock.view", [], 0
    while url:
        answer = app.get(url).text.split('id="who-answer"')[1]
        names = re.findall(r"<tr><td>([^<]+)</td></tr>", answer.split("</table>")[0])
        assert 1 <= len(names) <= 2
        seen += names
        pages_read += 1
        found = re.search(r'<a href="([^"]+)" rel="next">More users', answer)
        url = found.group(1).replace("&amp;", "&") if found else None
    assert pages_read >= 2
    assert {"ann", "bob", "root"} <= set(seen) and seen == sorted(set(seen))


def test_who_may_refuses_unknown_permissions_and_needs_acl_view_on_the_root(
    stocked: Any, testapp: Any, make_user: Any, console: Any
) -> None:
    make_user("root", "admins")
    page = console("root").get("/admin/locations/WH1?who=stock.fly")
    assert "Unknown permission" in page.text.split('id="who-answer"')[1]
    make_user("vera", "viewers")
    grant(
        testapp,
        stocked,
        "/locations",
        ("Allow", "group:viewers", "stock.view"),
        ("Allow", "group:viewers", "acl.view"),
    )
    page = console("vera").get("/admin/locations/WH1?who=stock.view")
    answer = page.text.split('id="who-answer"')[1]
    assert "needs acl.view on the root" in answer and "<td>vera</td>" not in answer


def test_explanations_refuse_unknown_names(make_user: Any, console: Any) -> None:
    make_user("root", "admins")
    app = console("root")
    assert "No such principal" in app.get("/admin/locations?principal=user:ghost").text
    page = app.get("/admin/locations?principal=user:root&permission=nope.nope")
    assert "Unknown permission" in page.text


def test_move_remove_and_inherit_forms(
    stocked: Any, testapp: Any, make_user: Any, console: Any
) -> None:
    make_user("root", "admins")
    grant(
        testapp,
        stocked,
        "/locations/WH1",
        ("Allow", "group:a", "stock.view"),
        ("Allow", "group:b", "stock.view"),
        ("Allow", "group:admins", "ALL"),
    )
    app = console("root")

    def principals() -> list[str]:
        acl = testapp.get("/locations/WH1/@@acl", headers=stocked).json
        return [e["principal"] for e in acl["entries"]]

    acl_edit(app, "/admin/locations/WH1", "move", position="1", direction="up")
    assert principals() == ["group:b", "group:a", "group:admins"]
    acl_edit(app, "/admin/locations/WH1", "remove", position="0")
    assert principals() == ["group:a", "group:admins"]
    acl_edit(app, "/admin/locations/WH1", "inherit", inherit="false")
    assert testapp.get("/locations/WH1/@@acl", headers=stocked).json["inherit"] is False
    page = app.get("/admin/locations/WH1")
    assert "Inherited from" not in page.text and "Inherit again" in page.text


@pytest.mark.parametrize(
    ("fields", "status", "message"),
    [
        ({"principal": "nobody", "permission": "stock.view"}, 400, "a principal is"),
        ({"principal": "group:x", "permission": "stock.fly"}, 400, "unknown permission"),
        (
            {"principal": "group:x", "permission": "stock.view", "action": "Maybe"},
            400,
            "Allow or Deny",
        ),
        (
            {"principal": "group:x", "permission": "stock.view", "position": "9"},
            400,
            "no entry at that position",
        ),
        (
            {"principal": "group:x", "permission": "stock.view", "position": "x"},
            400,
            "whole number",
        ),
        (
            {"principal": "group:x", "permission": "stock.view", "etag": "acl-77"},
            412,
            "changed since",
        ),
        ({"principal": "group:" + "x" * 300, "permission": "stock.view"}, 400, "not valid"),
    ],
)
def test_bad_acl_forms_change_nothing(
    stocked: Any,
    testapp: Any,
    make_user: Any,
    console: Any,
    fields: dict[str, str],
    status: int,
    message: str,
) -> None:
    make_user("root", "admins")
    fields = {"action": "Allow", **fields}
    page = acl_edit(console("root"), "/admin/locations/WH1", "add", status=status, **fields)
    assert message in page.text
    assert testapp.get("/locations/WH1/@@acl", headers=stocked).json["entries"] == []


def test_a_delegate_grants_through_the_form_only_what_it_holds(
    stocked: Any, testapp: Any, make_user: Any, console: Any
) -> None:
    # The console saves through PUT @@acl, so the delegation limits apply.
    make_user("dora", "keepers")
    grant(
        testapp,
        stocked,
        "/locations/WH1",
        ("Allow", "group:keepers", "acl.manage"),
        ("Allow", "group:keepers", "acl.view"),
        ("Allow", "group:keepers", "stock.view"),
    )
    app = console("dora")
    page = acl_edit(
        app,
        "/admin/locations/WH1",
        "add",
        status=403,
        action="Allow",
        principal="group:keepers",
        permission="stock.adjust",
        position="0",
    )
    assert "you may grant only permissions you hold here, and not stock.adjust" in page.text
    acl_edit(
        app,
        "/admin/locations/WH1",
        "add",
        action="Allow",
        principal="group:clerks",
        permission="stock.view",
        position="3",
    )
    entries = testapp.get("/locations/WH1/@@acl", headers=stocked).json["entries"]
    assert [(e["principal"], e["permission"]) for e in entries] == [
        ("group:keepers", "acl.manage"),
        ("group:keepers", "acl.view"),
        ("group:keepers", "stock.view"),
        ("group:clerks", "stock.view"),
    ]


def test_acl_forms_need_acl_manage(
    stocked: Any, testapp: Any, make_user: Any, console: Any
) -> None:
    make_user("rita", "clerks")
    grant(testapp, stocked, "/locations", ("Allow", "group:clerks", "stock.view"))
    app = console("rita")
    for edit in ("add", "move", "remove", "inherit"):
        acl_edit(
            app,
            "/admin/locations/WH1",
            edit,
            status=403,
            action="Allow",
            principal="group:clerks",
            permission="ALL",
            position="0",
            inherit="false",
        )
    assert testapp.get("/locations/WH1/@@acl", headers=stocked).json["entries"] == []


def test_audit_and_plugins_pages_need_acl_view(make_user: Any, console: Any) -> None:
    make_user("rita", "clerks")
    app = console("rita")
    app.get("/admin/@@audit", status=403)
    app.get("/admin/@@plugins", status=403)


def test_audit_page_filters_and_rejects_bad_dates(
    stocked: Any, testapp: Any, make_user: Any, console: Any
) -> None:
    make_user("root", "admins")
    grant(testapp, stocked, "/locations/WH1", ("Allow", "group:a", "stock.view"))
    app = console("root")
    page = app.get("/admin/@@audit?kind=acl.changed&resource=/locations/WH1")
    assert "group:a" in page.text and "token.issued" not in page.text
    assert "ISO 8601" in app.get("/admin/@@audit?since=yesterday", status=400).text


def test_plugins_page_shows_plugins_and_readiness(make_user: Any, console: Any) -> None:
    make_user("root", "admins")
    page = console("root").get("/admin/@@plugins")
    for name in ("auth", "stock", "reporting", "admin"):
        assert f"<td>{name}</td>" in page.text
    assert "Readiness: ready" in page.text


def test_missing_pages_are_404_for_who_may_look(make_user: Any, console: Any) -> None:
    make_user("root", "admins")
    app = console("root")
    page = app.get("/admin/auth/nothing", status=404)
    assert "There is nothing at this address" in page.text
    app.post("/admin/locations", {}, status=405)


def test_stored_text_is_escaped(stocked: Any, testapp: Any, make_user: Any, console: Any) -> None:
    testapp.put_json("/stock/X-1", {"name": "<script>alert(1)</script>"}, headers=stocked)
    testapp.post_json(
        "/locations/WH1/X-1/movements",
        {"kind": "receipt", "quantity": 1},
        headers=stocked,
        status=201,
    )
    make_user("root", "admins")
    app = console("root")
    for path in (
        "/admin/stock/X-1",
        "/admin/locations/WH1",
        "/admin/reports/stock-on-hand?sku=X-1",
    ):
        page = app.get(path)
        assert "<script>alert" not in page.text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
