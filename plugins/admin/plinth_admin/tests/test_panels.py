"""Panels: users, groups, tokens, reports; the directive's conflict check."""

from __future__ import annotations

import re
from typing import Any

import pytest
from pyramid.config import Configurator
from pyramid.exceptions import ConfigurationConflictError, ConfigurationError

from plinth.api import Resource
from plinth_admin.testing import csrf_of

from .test_pages import grant, stocked  # noqa: F401 - a fixture


def panel_post(app: Any, path: str, status: int = 303, **fields: Any) -> Any:
    page = app.get(path)
    fields.setdefault("csrf_token", csrf_of(page))
    return app.post(f"{path}/@@panel", fields, status=status)


def test_user_page_shows_account_and_tokens_and_revokes(
    make_user: Any, console: Any, login: Any, testapp: Any
) -> None:
    make_user("root", "admins")
    make_user("rita", "clerks")
    bearer = login("rita")
    app = console("root")
    page = app.get("/admin/auth/users/rita")
    assert "Account" in page.text and 'href="/admin/auth/groups/clerks"' in page.text
    token_id = re.search(r'name="token" value="([0-9a-f]{32})"', page.text).group(1)
    panel_post(app, "/admin/auth/users/rita", panel="auth.user", do="revoke", token=token_id)
    testapp.get("/auth/whoami", headers=bearer, status=401)
    audit = testapp.get("/@@audit?kind=token.revoked", headers=login("root")).json["items"]
    assert audit[0]["actor"] == "user:root"


def test_disable_from_the_user_page_ends_that_users_api_access(
    make_user: Any, console: Any, login: Any, testapp: Any
) -> None:
    make_user("root", "admins")
    make_user("rita", "clerks")
    app = console("root")
    panel_post(app, "/admin/auth/users/rita", panel="auth.user", do="disable")
    testapp.post_json(
        "/auth/tokens", {"username": "rita", "password": "correct-horse-battery-staple"}, status=401
    )
    assert "Enable this user" in app.get("/admin/auth/users/rita").text


def test_user_pages_need_auth_manage(make_user: Any, console: Any) -> None:
    make_user("rita", "clerks")
    make_user("ann", "clerks")
    app = console("rita")
    app.get("/admin/auth/users/ann", status=403)
    app.get("/admin/auth/users", status=403)
    panel_post(app, "/admin/auth/tokens", status=403, panel="auth.user", do="disable")


def test_own_tokens_can_be_revoked_by_their_owner(
    make_user: Any, console: Any, login: Any, testapp: Any
) -> None:
    make_user("rita", "clerks")
    bearer = login("rita")
    api_token = testapp.get("/auth/tokens", headers=bearer).json["items"][0]["id"]
    app = console("rita")
    page = app.get("/admin/auth/tokens")
    assert "Your tokens" in page.text and "(this session)" in page.text
    assert len(re.findall(r'name="token" value="([0-9a-f]{32})"', page.text)) == 2
    panel_post(app, "/admin/auth/tokens", panel="auth.own-tokens", token=api_token)
    testapp.get("/auth/whoami", headers=bearer, status=401)
    app.get("/admin/auth/tokens", status=200)


def test_nobody_revokes_someone_elses_token_through_their_own_page(
    make_user: Any, console: Any, login: Any, testapp: Any
) -> None:
    make_user("rita", "clerks")
    make_user("ann", "clerks")
    bearer = login("ann")
    ann_token = testapp.get("/auth/tokens", headers=bearer).json["items"][0]["id"]
    app = console("rita")
    panel_post(app, "/admin/auth/tokens", status=403, panel="auth.own-tokens", token=ann_token)
    testapp.get("/auth/whoami", headers=bearer, status=200)


def test_group_page_lists_members(make_user: Any, console: Any) -> None:
    make_user("root", "admins")
    make_user("rita", "clerks")
    page = console("root").get("/admin/auth/groups/clerks")
    assert 'href="/admin/auth/users/rita"' in page.text


def test_report_page_shows_rows_chart_and_csv(
    stocked: Any,  # noqa: F811
    make_user: Any,
    console: Any,
) -> None:
    make_user("root", "admins")
    app = console("root")
    page = app.get("/admin/reports/stock-balance")
    assert "<td>A-1</td>" in page.text or "A-1" in page.text
    chart = re.search(r'<img class="chart" src="([^"]+)"', page.text).group(1)
    svg = app.get(chart.replace("&amp;", "&"))
    assert svg.content_type == "image/svg+xml" and b"<svg" in svg.body
    csv_url = re.search(r'<a href="([^"]+)" download>', page.text).group(1)
    csv = app.get(csv_url.replace("&amp;", "&"))
    assert csv.content_type == "text/csv"
    assert "attachment" in csv.headers["Content-Disposition"]


def test_report_page_filters_and_shows_bad_parameters(
    stocked: Any,  # noqa: F811
    make_user: Any,
    console: Any,
) -> None:
    make_user("root", "admins")
    app = console("root")
    page = app.get("/admin/reports/stock-on-hand?sku=A-1")
    assert "<td>A-1</td>" in page.text
    page = app.get("/admin/reports/stock-on-hand?sku=ZZZ")
    assert "No rows." in page.text
    page = app.get("/admin/reports/movements?date_from=not-a-date")
    assert 'class="error"' in page.text
    assert "date_from" in page.text
    app.get("/admin/reports/movements/@@report.csv?date_from=not-a-date", status=400)


def test_reports_need_reports_view(
    stocked: Any,  # noqa: F811
    make_user: Any,
    console: Any,
    testapp: Any,
) -> None:
    make_user("rita", "clerks")
    grant(testapp, stocked, "/reports/low-stock", ("Allow", "group:clerks", "reports.view"))
    app = console("rita")
    app.get("/admin/reports/low-stock", status=200)
    app.get("/admin/reports/stock-on-hand", status=403)
    app.get("/admin/reports/stock-on-hand/@@report.csv", status=403)
    app.get("/admin/reports/stock-balance/@@chart.svg", status=403)


class Thing(Resource):
    pass


def test_a_panel_name_claimed_twice_is_a_conflict() -> None:
    config = Configurator(settings={})
    config.include("plinth_admin.panels")

    def view(context: Any, request: Any) -> dict[str, Any]:
        return {}

    config.add_admin_panel("x.thing", Thing, view, "a.jinja2", "A")
    config.add_admin_panel("x.thing", Thing, view, "b.jinja2", "B")
    with pytest.raises(ConfigurationConflictError):
        config.commit()


def test_a_panel_with_a_form_must_say_who_may_post() -> None:
    config = Configurator(settings={})
    config.include("plinth_admin.panels")
    with pytest.raises(ConfigurationError, match="post_permits"):
        config.add_admin_panel("x.thing", Thing, dict, "a.jinja2", "A", post=print)


def test_includeme_registers_the_directive_and_panels(plinth_registry: Any) -> None:
    from plinth_admin.panels import PANELS_KEY

    panels = plinth_registry[PANELS_KEY]
    assert {"auth.user", "auth.group", "auth.own-tokens", "reporting.report"} <= set(panels)
