"""Whatever a browser (or anything else) sends, the console answers without a 500."""

from __future__ import annotations

from typing import Any

import pytest

from plinth_admin.testing import csrf_of

BODIES = [
    ("multipart/form-data", b"garbage"),
    ("multipart/form-data; boundary=x", b"--x\r\nContent-Disposition: form-data\r\n\r\n"),
    ("application/x-www-form-urlencoded", b"%ZZ=%ZZ&csrf_token=%FF%FE"),
    ("application/json", b'{"csrf_token": "x"}'),
    ("text/plain", b"\x00\x01\x02"),
]


@pytest.mark.parametrize(("content_type", "body"), BODIES)
@pytest.mark.parametrize(
    "path",
    [
        "/admin/@@signin",
        "/admin/@@signout",
        "/admin/locations/WH1/@@acl-edit",
        "/admin/locations/WH1/@@panel",
    ],
)
def test_odd_bodies_are_refused_not_crashed_on(
    make_user: Any, console: Any, path: str, content_type: str, body: bytes
) -> None:
    make_user("root", "admins")
    app = console("root")
    response = app.post(path, body, headers={"Content-Type": content_type}, expect_errors=True)
    assert 400 <= response.status_int < 500


@pytest.mark.parametrize(
    "query",
    [
        "after=%FF",
        "principal=user:" + "x" * 5000,
        "principal=%00",
        "permission=" + "p" * 300 + "&principal=user:root",
        "after=" + "z" * 5000,
    ],
)
def test_odd_queries_do_not_crash_pages(make_user: Any, console: Any, query: str) -> None:
    make_user("root", "admins")
    response = console("root").get(f"/admin/locations?{query}", expect_errors=True)
    assert response.status_int < 500


@pytest.mark.parametrize("query", ["cursor=forged", "since=nope", "until=2026-13-45"])
def test_bad_audit_filters_are_400(make_user: Any, console: Any, query: str) -> None:
    make_user("root", "admins")
    page = console("root").get(f"/admin/@@audit?{query}", status=400)
    assert "text/html" in page.content_type


def test_an_unknown_panel_is_refused(make_user: Any, console: Any) -> None:
    make_user("root", "admins")
    app = console("root")
    token = csrf_of(app.get("/admin/locations/WH1"))
    app.post("/admin/locations/WH1/@@panel", {"csrf_token": token, "panel": "nope"}, status=403)


def test_a_cookie_that_is_not_a_token_is_ignored(console_browser: Any) -> None:
    app = console_browser()
    app.set_cookie("plinth_admin", "x" * 4000)
    page = app.get("/admin/", status=200)
    assert 'name="password"' in page.text
