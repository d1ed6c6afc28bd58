"""Resource pages: what they show to whom, and the ACL forms."""

from __future__ import annotations

import re
from typing import Any

import pytest

from .conftest import csrf_of

ETAG = re.compile(r'name="etag" value="([^"]+)"')


@pytest.fixture
def stocked(testapp: Any, admin: Any) -> dict[str, str]:
    for code in ("WH1", "WH2"):
        testapp.put_json(f"/locations/{code}", {"name": f"Store {code}"}, headers=admin)
    testapp.put_json("/stock/A-1", {"name": "Anchor bolt"}, headers=admin)
    testapp.post_json("/locations/WH1/A-1/movements", {"kind": "receipt", "quantity": 12},
                      headers=admin, status=201)
    return admin


def grant(testapp: Any, admin: Any, path: str, *entries: tuple[str, str, str]) -> None:
    testapp.put_json(f"{path}/@@acl", {"entries": [
        {"action": a, "principal": p, "permission": perm} for a, p, perm in entries]},
        headers=admin, status=200)


def form_post(app: Any, page_path: str, view: str, status: int = 303, **fields: Any) -> Any:
    page = app.get(page_path)
    fields.setdefault("csrf_token", csrf_of(page))
    match = ETAG.search(page.text)
    fields.setdefault("etag", match.group(1) if match else "")
    return app.post(f"{page_path.rstrip('/')}/@@{view}", fields, status=status)


PAGES = ["/admin/", "/admin/locations", "/admin/locations/WH1", "/admin/locations/WH1/A-1",
         "/admin/stock", "/admin/stock/A-1", "/admin/auth", "/admin/auth/users",
         "/admin/auth/users/root", "/admin/auth/groups", "/admin/auth/groups/admins",
         "/admin/auth/tokens", "/admin/reports", "/admin/reports/low-stock",
         "/admin/reservations", "/admin/@@audit", "/admin/@@plugins"]


@pytest.mark.parametrize("path", PAGES)
def test_every_page_type_renders_for_a_superuser(stocked: Any, make_user: Any,
                                                 sign_in: Any, path: str) -> None:
    make_user("root", "admins")
    page = sign_in("root").get(path, status=200)
    assert "<h1>" in page.text and "Sign out" in page.text


def test_root_page_lists_mounted_children_with_breadcrumbs(make_user: Any,
                                                           sign_in: Any) -> None:
    make_user("root", "admins")
    page = sign_in("root").get("/admin/locations/WH1/A-1")
    crumbs = re.findall(r'<li><a href="([^"]+)"', page.text.split("</nav>", 2)[1])
    assert crumbs == ["/admin/", "/admin/locations", "/admin/locations/WH1",
                      "/admin/locations/WH1/A-1"]
    root = sign_in("root").get("/admin/")
    for child in ("auth", "locations", "reports", "reservations", "stock"):
        assert f'href="/admin/{child}"' in root.text


def test_children_leave_out_what_the_viewer_may_not_view(stocked: Any, testapp: Any,
                                                         make_user: Any,
                                                         sign_in: Any) -> None:
    make_user("rita", "clerks")
    grant(testapp, stocked, "/locations", ("Allow", "group:clerks", "stock.view"))
    grant(testapp, stocked, "/locations/WH2", ("Deny", "user:rita", "stock.view"))
    page = sign_in("rita").get("/admin/locations", status=200)
    assert 'href="/admin/locations/WH1"' in page.text
    assert "WH2" not in page.text


def test_children_are_paginated(stocked: Any, testapp: Any, make_user: Any,
                                sign_in: Any) -> None:
    from plinth_admin.views.pages import CHILDREN_PAGE

    for number in range(CHILDREN_PAGE):
        testapp.put_json(f"/locations/L{number:03d}", {"name": "x"}, headers=stocked)
    make_user("root", "admins")
    app = sign_in("root")
    first = app.get("/admin/locations")
    assert first.text.count('<li><a href="/admin/locations/') == CHILDREN_PAGE
    assert "WH1" not in first.text
    next_url = re.search(r'<a href="([^"]+)" rel="next">', first.text).group(1)
    second = app.get(next_url.replace("&amp;", "&"))
    assert 'href="/admin/locations/WH1"' in second.text
    assert 'href="/admin/locations/WH2"' in second.text
    assert 'rel="next"' not in second.text


def test_a_page_needs_the_same_permission_as_the_api(stocked: Any, testapp: Any,
                                                     make_user: Any, sign_in: Any,
                                                     login: Any) -> None:
    make_user("rita", "clerks")
    app = sign_in("rita")
    bearer = login("rita")
    testapp.get("/locations/WH1", headers=bearer, status=403)
    app.get("/admin/locations/WH1", status=403)
    app.get("/admin/locations/NOPE", status=403)  # missing or not: the same answer
    grant(testapp, stocked, "/locations/WH1", ("Allow", "group:clerks", "stock.view"))
    testapp.get("/locations/WH1", headers=bearer, status=200)
    app.get("/admin/locations/WH1", status=200)
    app.get("/admin/locations/WH2", status=403)


def test_no_acl_panel_without_acl_view(stocked: Any, testapp: Any, make_user: Any,
                                       sign_in: Any) -> None:
    make_user("rita", "clerks")
    grant(testapp, stocked, "/locations", ("Allow", "group:clerks", "stock.view"))
    page = sign_in("rita").get("/admin/locations/WH1", status=200)
    assert 'id="acl"' not in page.text and "Access control" not in page.text
    assert "acl-add" not in page.text


def test_acl_view_shows_the_acl_without_forms(stocked: Any, testapp: Any, make_user: Any,
                                              sign_in: Any) -> None:
    make_user("vera", "viewers")
    grant(testapp, stocked, "/locations",
          ("Allow", "group:viewers", "stock.view"), ("Allow", "group:viewers", "acl.view"))
    page = sign_in("vera").get("/admin/locations/WH1", status=200)
    assert "Access control" in page.text
    assert "Inherited from" in page.text and "group:viewers" in page.text
    assert "acl-add" not in page.text and "acl-remove" not in page.text
    form_post(sign_in("vera"), "/admin/locations/WH1", "acl-add", status=403,
              action="Allow", principal="group:viewers", permission="stock.issue")
    assert testapp.get("/locations/WH1/@@acl", headers=stocked).json["entries"] == []


def test_grant_through_the_form_is_audited_and_explained(stocked: Any, testapp: Any,
                                                          make_user: Any,
                                                          sign_in: Any) -> None:
    make_user("root", "admins")
    make_user("rita", "receivers")
    app = sign_in("root")
    form_post(app, "/admin/locations/WH1", "acl-add", action="Allow",
              principal="group:receivers", permission="stock.receive")
    acl = testapp.get("/locations/WH1/@@acl", headers=stocked).json
    assert [(e["action"], e["principal"], e["permission"]) for e in acl["entries"]] == [
        ("Allow", "group:receivers", "stock.receive")]
    audit = testapp.get("/@@audit?kind=acl.changed&resource=/locations/WH1",
                        headers=stocked).json["items"]
    assert audit[0]["actor"] == "user:root"
    page = app.get("/admin/locations/WH1/A-1?principal=user:rita&permission=stock.receive")
    explanation = page.text.split('id="explanation"')[1]
    assert "group:receivers" in explanation and "/locations/WH1" in explanation
    assert "<td>yes</td>" in explanation
    other = app.get("/admin/locations/WH2?principal=user:rita&permission=stock.receive")
    assert "<td>no</td>" in other.text.split('id="explanation"')[1]
    audit_page = app.get("/admin/@@audit?kind=acl.changed")
    assert "group:receivers" in audit_page.text


def test_explanations_refuse_unknown_names(make_user: Any, sign_in: Any) -> None:
    make_user("root", "admins")
    app = sign_in("root")
    assert "No such principal" in app.get("/admin/locations?principal=user:ghost").text
    page = app.get("/admin/locations?principal=user:root&permission=nope.nope")
    assert "Unknown permission" in page.text


def test_move_remove_and_inherit_forms(stocked: Any, testapp: Any, make_user: Any,
                                       sign_in: Any) -> None:
    make_user("root", "admins")
    grant(testapp, stocked, "/locations/WH1", ("Allow", "group:a", "stock.view"),
          ("Allow", "group:b", "stock.view"), ("Allow", "group:admins", "ALL"))
    app = sign_in("root")

    def principals() -> list[str]:
        acl = testapp.get("/locations/WH1/@@acl", headers=stocked).json
        return [e["principal"] for e in acl["entries"]]

    form_post(app, "/admin/locations/WH1", "acl-move", position="1", direction="up")
    assert principals() == ["group:b", "group:a", "group:admins"]
    form_post(app, "/admin/locations/WH1", "acl-remove", position="0")
    assert principals() == ["group:a", "group:admins"]
    form_post(app, "/admin/locations/WH1", "acl-inherit", inherit="false")
    assert testapp.get("/locations/WH1/@@acl", headers=stocked).json["inherit"] is False
    page = app.get("/admin/locations/WH1")
    assert "Inherited from" not in page.text and "Inherit again" in page.text


@pytest.mark.parametrize(("fields", "status", "message"), [
    ({"principal": "nobody", "permission": "stock.view"}, 400, "a principal is"),
    ({"principal": "group:x", "permission": "stock.fly"}, 400, "unknown permission"),
    ({"principal": "group:x", "permission": "stock.view", "action": "Maybe"}, 400,
     "Allow or Deny"),
    ({"principal": "group:x", "permission": "stock.view", "position": "9"}, 400,
     "no entry at that position"),
    ({"principal": "group:x", "permission": "stock.view", "position": "x"}, 400,
     "whole number"),
    ({"principal": "group:x", "permission": "stock.view", "etag": "acl-77"}, 412,
     "changed since"),
    ({"principal": "group:" + "x" * 300, "permission": "stock.view"}, 400, "not valid"),
])
def test_bad_acl_forms_change_nothing(stocked: Any, testapp: Any, make_user: Any,
                                      sign_in: Any, fields: dict[str, str], status: int,
                                      message: str) -> None:
    make_user("root", "admins")
    fields = {"action": "Allow", **fields}
    page = form_post(sign_in("root"), "/admin/locations/WH1", "acl-add", status=status,
                     **fields)
    assert message in page.text
    assert testapp.get("/locations/WH1/@@acl", headers=stocked).json["entries"] == []


def test_a_delegate_grants_through_the_form_only_what_it_holds(
        stocked: Any, testapp: Any, make_user: Any, sign_in: Any) -> None:
    # The console saves through PUT @@acl, so the delegation limits apply.
    make_user("dora", "keepers")
    grant(testapp, stocked, "/locations/WH1", ("Allow", "group:keepers", "acl.manage"),
          ("Allow", "group:keepers", "acl.view"), ("Allow", "group:keepers", "stock.view"))
    app = sign_in("dora")
    page = form_post(app, "/admin/locations/WH1", "acl-add", status=403, action="Allow",
                     principal="group:keepers", permission="stock.adjust", position="0")
    assert "you may grant only permissions you hold here, and not stock.adjust" in page.text
    form_post(app, "/admin/locations/WH1", "acl-add", action="Allow",
              principal="group:clerks", permission="stock.view", position="3")
    entries = testapp.get("/locations/WH1/@@acl", headers=stocked).json["entries"]
    assert [(e["principal"], e["permission"]) for e in entries] == [
        ("group:keepers", "acl.manage"), ("group:keepers", "acl.view"),
        ("group:keepers", "stock.view"), ("group:clerks", "stock.view")]


def test_acl_forms_need_acl_manage(stocked: Any, testapp: Any, make_user: Any,
                                   sign_in: Any) -> None:
    make_user("rita", "clerks")
    grant(testapp, stocked, "/locations", ("Allow", "group:clerks", "stock.view"))
    app = sign_in("rita")
    for view in ("acl-add", "acl-move", "acl-remove", "acl-inherit"):
        form_post(app, "/admin/locations/WH1", view, status=403, action="Allow",
                  principal="group:clerks", permission="ALL", position="0", inherit="false")
    assert testapp.get("/locations/WH1/@@acl", headers=stocked).json["entries"] == []


def test_audit_and_plugins_pages_need_acl_view(make_user: Any, sign_in: Any) -> None:
    make_user("rita", "clerks")
    app = sign_in("rita")
    app.get("/admin/@@audit", status=403)
    app.get("/admin/@@plugins", status=403)


def test_audit_page_filters_and_rejects_bad_dates(stocked: Any, testapp: Any,
                                                  make_user: Any, sign_in: Any) -> None:
    make_user("root", "admins")
    grant(testapp, stocked, "/locations/WH1", ("Allow", "group:a", "stock.view"))
    app = sign_in("root")
    page = app.get("/admin/@@audit?kind=acl.changed&resource=/locations/WH1")
    assert "group:a" in page.text and "token.issued" not in page.text
    assert "ISO 8601" in app.get("/admin/@@audit?since=yesterday", status=400).text


def test_plugins_page_shows_plugins_and_readiness(make_user: Any, sign_in: Any) -> None:
    make_user("root", "admins")
    page = sign_in("root").get("/admin/@@plugins")
    for name in ("auth", "stock", "reporting", "admin"):
        assert f"<td>{name}</td>" in page.text
    assert "Readiness: ready" in page.text


def test_missing_pages_are_404_for_who_may_look(make_user: Any, sign_in: Any) -> None:
    make_user("root", "admins")
    app = sign_in("root")
    page = app.get("/admin/auth/nothing", status=404)
    assert "There is nothing at this address" in page.text
    app.post("/admin/locations", {}, status=405)


def test_stored_text_is_escaped(stocked: Any, testapp: Any, make_user: Any,
                                sign_in: Any) -> None:
    testapp.put_json("/stock/X-1", {"name": "<script>alert(1)</script>"}, headers=stocked)
    testapp.post_json("/locations/WH1/X-1/movements", {"kind": "receipt", "quantity": 1},
                      headers=stocked, status=201)
    make_user("root", "admins")
    app = sign_in("root")
    for path in ("/admin/stock/X-1", "/admin/locations/WH1",
                 "/admin/reports/stock-on-hand?sku=X-1"):
        page = app.get(path)
        assert "<script>alert" not in page.text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
