"""Signing in and out, the session cookie, CSRF, idle expiry and revocation."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update
from webtest import TestApp

from plinth.api import make_app
from plinth_admin.testing import csrf_of
from plinth_auth.models import Token, User
from plinth_auth.testing import PASSWORD, PrivateRedis, free_port


def session_token(engine: Any, name: str) -> Token:
    with engine.connect() as connection:
        return connection.execute(
            select(Token).join(User).where(User.name == name).order_by(Token.created_at.desc())
        ).first()


def test_signed_out_console_is_the_sign_in_form(console_browser: Any) -> None:
    page = console_browser().get("/admin/", status=200)
    form = page.forms[0]
    assert {"username", "password", "csrf_token"} <= set(form.fields)
    assert "text/html" in page.headers["Content-Type"]


@pytest.mark.parametrize("path", ["/admin/locations/WH1", "/admin/no/such/thing", "/admin/@@audit"])
def test_signed_out_pages_ask_to_sign_in_without_telling_what_exists(
    console_browser: Any, path: str
) -> None:
    page = console_browser().get(path, status=401)
    assert 'name="password"' in page.text
    assert "Not found" not in page.text


@pytest.mark.parametrize(
    ("path", "location"), [("/admin", "/admin/"), ("/admin?next=x", "/admin/?next=x")]
)
def test_admin_without_its_slash_leads_to_the_console(
    console_browser: Any, path: str, location: str
) -> None:
    response = console_browser().get(path, status=301)
    assert response.headers["Location"] == location
    assert 'name="password"' in response.follow(status=200).text


def test_sign_in_sets_a_http_only_same_site_cookie(make_user: Any, console_browser: Any) -> None:
    make_user("ann", "admins")
    app = console_browser()
    form = app.get("/admin/").forms[0]
    form["username"], form["password"] = "ann", "correct-horse-battery-staple"
    response = form.submit(status=303)
    cookie = next(
        v for k, v in response.headerlist if k == "Set-Cookie" and v.startswith("plinth_admin=")
    )
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Path=/admin" in cookie
    assert "secure" not in cookie.lower()
    page = app.get("/admin/", status=200)
    assert "user:ann" in page.text and "Sign out" in page.text


def test_cookie_is_secure_over_https(make_user: Any, console_browser: Any) -> None:
    make_user("ann", "admins")
    app = console_browser()
    https = {"wsgi.url_scheme": "https"}
    token = csrf_of(app.get("/admin/", extra_environ=https))
    response = app.post(
        "/admin/@@signin",
        {"username": "ann", "password": "correct-horse-battery-staple", "csrf_token": token},
        extra_environ=https,
        status=303,
    )
    cookie = next(
        v for k, v in response.headerlist if k == "Set-Cookie" and v.startswith("plinth_admin=")
    )
    assert "secure" in cookie.lower()


def test_signing_in_issues_an_audited_auth_token(
    make_user: Any, console: Any, plinth_engine: Any, admin: Any, testapp: Any
) -> None:
    make_user("ann", "admins")
    console("ann")
    assert session_token(plinth_engine, "ann") is not None
    audit = testapp.get("/@@audit?kind=token.issued", headers=admin).json["items"]
    assert any(entry["after"] and "ann" in str(entry) for entry in audit)


def test_wrong_password_and_unknown_user_get_the_same_answer(
    make_user: Any, console_browser: Any
) -> None:
    make_user("ann", "admins")
    answers = []
    for username in ("ann", "nobody"):
        app = console_browser()
        token = csrf_of(app.get("/admin/"))
        page = app.post(
            "/admin/@@signin",
            {"username": username, "password": "wrong-one", "csrf_token": token},
            status=401,
        )
        assert "plinth_admin=" not in str(page.headers.get("Set-Cookie", ""))
        answers.append(page.text.replace(username, "NAME"))
    assert "The username or password is wrong." in answers[0]
    # Only the CSRF token (random per browser) differs.
    assert [csrf_strip(a) for a in answers[:1]] == [csrf_strip(a) for a in answers[1:]]


def csrf_strip(text: str) -> str:
    import re

    return re.sub(r'name="csrf_token" value="[^"]+"', "", text)


def test_failed_sign_ins_are_limited_like_api_logins(
    make_user: Any, console_browser: Any, plinth_registry: Any
) -> None:
    make_user("ann", "admins")
    app = console_browser()
    token = csrf_of(app.get("/admin/"))
    attempts = plinth_registry.settings["auth.login_attempts"]
    for _ in range(attempts):
        app.post(
            "/admin/@@signin",
            {"username": "ann", "password": "wrong-one", "csrf_token": token},
            status=401,
        )
    page = app.post(
        "/admin/@@signin",
        {"username": "ann", "password": "correct-horse-battery-staple", "csrf_token": token},
        status=429,
    )
    assert int(page.headers["Retry-After"]) > 0
    assert "Too many failed sign-ins" in page.text


@pytest.mark.parametrize("token", [None, "", "wrong"])
def test_sign_in_without_the_right_csrf_token_is_refused(
    make_user: Any, console_browser: Any, token: str | None
) -> None:
    make_user("ann", "admins")
    app = console_browser()
    app.get("/admin/")
    body = {"username": "ann", "password": "correct-horse-battery-staple"}
    if token is not None:
        body["csrf_token"] = token
    page = app.post("/admin/@@signin", body, status=403)
    assert "security token" in page.text
    assert "plinth_admin" not in app.cookies


@pytest.mark.parametrize("token", [None, "wrong", "other-session"])
def test_signed_in_forms_without_the_right_csrf_token_are_refused(
    make_user: Any, console: Any, admin: Any, testapp: Any, token: str | None
) -> None:
    make_user("ann", "admins")
    app = console("ann")
    other = console("ann")
    body = {
        "action": "Allow",
        "principal": "group:clerks",
        "permission": "stock.view",
        "etag": "acl-0",
    }
    if token == "wrong":
        body["csrf_token"] = "0" * 64
    elif token == "other-session":
        body["csrf_token"] = csrf_of(other.get("/admin/locations/WH1"))
    app.post("/admin/locations/WH1/@@acl-edit", {"edit": "add", **body}, status=403)
    assert testapp.get("/locations/WH1/@@acl", headers=admin).json["entries"] == []


def test_every_console_post_checks_the_csrf_token(plinth_registry: Any) -> None:
    from plinth_admin.views.common import ROUTE

    posts = []
    for view in plinth_registry.introspector.get_category("views"):
        intr = view["introspectable"]
        if intr["route_name"] == ROUTE and "POST" in (intr["request_methods"] or ()):
            posts.append(intr["callable"])
    assert len(posts) >= 5
    assert all(getattr(p, "admin_csrf", False) for p in posts), posts


def test_console_pages_have_a_strict_content_security_policy(make_user: Any, console: Any) -> None:
    make_user("ann", "admins")
    app = console("ann")
    for path in ("/admin/", "/admin/locations/WH1", "/admin/@@audit", "/admin/@@plugins"):
        csp = app.get(path).headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "style-src 'self'" in csp
        assert "unsafe" not in csp and "default-src 'none'" in csp


def test_templates_have_no_inline_script_or_style() -> None:
    import re
    from importlib.resources import files

    root = files("plinth_admin").joinpath("templates")
    templates = [p for p in root.iterdir() if p.name.endswith(".jinja2")]
    templates += [p for p in root.joinpath("panels").iterdir() if p.name.endswith(".jinja2")]
    for template in templates:
        text = template.read_text()
        assert not re.search(r"<script(?![^>]*\bsrc=)", text), template.name
        assert "<style" not in text and " style=" not in text, template.name
        assert not re.search(r"\son[a-z]+=", text), template.name


def test_idle_session_ends_and_its_token_is_revoked(
    make_user: Any, console: Any, plinth_engine: Any, plinth_registry: Any
) -> None:
    make_user("ann", "admins")
    app = console("ann")
    app.get("/admin/locations", status=200)
    timeout = plinth_registry.settings["admin.session_idle_timeout"]
    token = session_token(plinth_engine, "ann")
    with plinth_engine.begin() as connection:
        connection.execute(
            update(Token)
            .where(Token.id == token.id)
            .values(last_used_at=datetime.now(UTC) - timedelta(seconds=timeout + 5))
        )
    page = app.get("/admin/locations", status=401)
    assert "Your session has ended" in page.text
    assert session_token(plinth_engine, "ann").revoked_at is not None
    app.get("/admin/locations", status=401)


def test_a_session_within_the_idle_timeout_goes_on(
    make_user: Any, console: Any, plinth_engine: Any, plinth_registry: Any
) -> None:
    make_user("ann", "admins")
    app = console("ann")
    timeout = plinth_registry.settings["admin.session_idle_timeout"]
    token = session_token(plinth_engine, "ann")
    with plinth_engine.begin() as connection:
        connection.execute(
            update(Token)
            .where(Token.id == token.id)
            .values(last_used_at=datetime.now(UTC) - timedelta(seconds=timeout - 70))
        )
    app.get("/admin/locations", status=200)


@pytest.mark.parametrize("value", ["10", "soon", "0"])
def test_idle_timeout_setting_is_validated(plinth_settings: Any, value: str) -> None:
    from plinth.api import SettingError, make_app

    with pytest.raises(SettingError, match=r"admin\.session_idle_timeout"):
        make_app({**plinth_settings, "admin.session_idle_timeout": value})


def test_revoking_the_token_ends_the_session(
    make_user: Any, console: Any, admin: Any, testapp: Any, plinth_engine: Any
) -> None:
    make_user("ann", "admins")
    app = console("ann")
    token = session_token(plinth_engine, "ann")
    testapp.delete(f"/auth/tokens/{token.id}", headers=admin, status=204)
    page = app.get("/admin/locations", status=401)
    assert 'name="password"' in page.text


def test_disabling_the_user_ends_the_session(
    make_user: Any, console: Any, admin: Any, testapp: Any
) -> None:
    make_user("ann", "admins")
    app = console("ann")
    testapp.put_json("/auth/users/ann", {"active": False}, headers=admin, status=200)
    app.get("/admin/locations", status=401)


def test_a_password_change_ends_the_session(
    make_user: Any, console: Any, admin: Any, testapp: Any
) -> None:
    make_user("ann", "admins")
    app = console("ann")
    app.get("/admin/locations", status=200)
    testapp.put_json(
        "/auth/users/ann", {"password": "a-new-long-passphrase-9"}, headers=admin, status=200
    )
    app.get("/admin/locations", status=401)


def test_the_cookie_never_authenticates_the_json_api(make_user: Any, console: Any) -> None:
    make_user("ann", "admins")
    app = console("ann")
    secret = app.cookies["plinth_admin"]
    # The browser would not even send it outside /admin; a client that does
    # is still not authenticated.
    app.set_cookie("plinth_admin", secret)
    for path in ("/auth/whoami", "/stock/A-1", "/locations/WH1/@@acl"):
        app.get(path, headers={"Cookie": f"plinth_admin={secret}"}, status=401)
    app.put_json(
        "/locations/WH9", {"name": "x"}, headers={"Cookie": f"plinth_admin={secret}"}, status=401
    )


def test_api_views_are_not_reachable_through_console_paths(
    make_user: Any, console: Any, admin: Any, testapp: Any
) -> None:
    make_user("ann", "admins")
    app = console("ann")
    body = {"entries": [{"action": "Allow", "principal": "group:x", "permission": "ALL"}]}
    response = app.put_json("/admin/locations/WH1/@@acl", body, expect_errors=True)
    assert response.status_int in (403, 404, 405)
    assert testapp.get("/locations/WH1/@@acl", headers=admin).json["entries"] == []
    whoami = app.get("/admin/auth/@@whoami", expect_errors=True)
    assert whoami.status_int == 404 and "text/html" in whoami.content_type


def test_htmx_is_served_by_the_plugin_with_its_licence(console_browser: Any) -> None:
    app = console_browser()
    page = app.get("/admin/")
    assert 'src="/admin/@@static/htmx.min.js"' in page.text
    assert "//" not in page.text.split('src="', 1)[1].split('"', 1)[0]
    script = app.get("/admin/@@static/htmx.min.js")
    assert "javascript" in script.content_type
    assert "Zero-Clause BSD" in script.text[:600] and "var htmx" in script.text


def test_sign_out_revokes_the_token_and_drops_the_cookie(
    make_user: Any, console: Any, plinth_engine: Any
) -> None:
    make_user("ann", "admins")
    app = console("ann")
    page = app.get("/admin/")
    form = next(f for f in page.forms.values() if f.action.endswith("@@signout"))
    response = form.submit(status=303)
    assert any(
        (k == "Set-Cookie" and v.startswith("plinth_admin=;"))
        or (k == "Set-Cookie" and "plinth_admin=" in v and "Max-Age=0" in v)
        for k, v in response.headerlist
    )
    assert session_token(plinth_engine, "ann").revoked_at is not None
    app.get("/admin/locations", status=401)


def test_signing_in_again_ends_the_previous_session(
    make_user: Any, console: Any, plinth_engine: Any
) -> None:
    make_user("ann", "admins")
    make_user("bob", "admins")
    app = console("ann")
    first = session_token(plinth_engine, "ann")
    console("bob", app=app)
    assert session_token(plinth_engine, "ann").id == first.id
    assert session_token(plinth_engine, "ann").revoked_at is not None
    assert "user:bob" in app.get("/admin/").text


def test_sign_out_needs_a_session(console_browser: Any) -> None:
    app = console_browser()
    token = csrf_of(app.get("/admin/"))
    app.post("/admin/@@signout", {"csrf_token": token}, status=401)


def test_next_only_leads_inside_the_console(make_user: Any, console_browser: Any) -> None:
    make_user("ann", "admins")
    for target, expected in (
        ("/admin/locations/WH1", "/admin/locations/WH1"),
        ("https://evil.example/", "/admin/"),
        ("//evil.example/admin/", "/admin/"),
        ("/admin//evil.example", "/admin/"),
    ):
        app = console_browser()
        token = csrf_of(app.get("/admin/"))
        response = app.post(
            "/admin/@@signin",
            {
                "username": "ann",
                "password": "correct-horse-battery-staple",
                "csrf_token": token,
                "next": target,
            },
            status=303,
        )
        assert response.headers["Location"].endswith(expected)
        assert "evil" not in response.headers["Location"]


@pytest.fixture
def private_redis() -> Iterator[PrivateRedis]:
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    server = PrivateRedis(free_port())
    server.start()
    try:
        yield server
    finally:
        server.stop()


def test_sign_in_while_the_limits_storage_is_down_is_a_503_form_when_closed(
    plinth_settings: dict[str, Any],
    clean_database: None,
    make_user: Any,
    private_redis: PrivateRedis,
) -> None:
    # The same policy as POST /auth/tokens, on the form: never a 500.
    settings = {
        **plinth_settings,
        "plinth.plugins": "auth admin",
        "auth.ratelimit_storage": private_redis.url,
        "auth.ratelimit_failure": "closed",
    }
    app = TestApp(make_app(settings), extra_environ={"REMOTE_ADDR": "192.0.2.8"})
    make_user("ann", "admins")
    private_redis.stop()
    for password in (PASSWORD, "bad-password"):
        page = app.get("/admin/")
        response = app.post(
            "/admin/@@signin",
            {"username": "ann", "password": password, "csrf_token": csrf_of(page)},
            status=503,
        )
        assert "Signing in is unavailable for now" in response.text
        assert response.headers["Retry-After"] == "5"
        assert "plinth_admin=" not in response.headers.get("Set-Cookie", "")
