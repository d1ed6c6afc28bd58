"""Fixtures of the admin console's tests: a browser-like client that signs in."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from plinth_auth.testing import PASSWORD

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(response: Any) -> str:
    match = CSRF.search(response.text)
    assert match is not None, "the page has no form with a CSRF token"
    return match.group(1)


@pytest.fixture
def browser(plinth_app: Any, clean_database: None) -> Callable[..., Any]:
    """A fresh WebTest client with its own cookie jar (one browser)."""
    from webtest import TestApp

    def make(remote_addr: str = "127.0.0.1") -> Any:
        return TestApp(plinth_app, extra_environ={"HTTP_HOST": "localhost",
                                                  "REMOTE_ADDR": remote_addr})

    return make


@pytest.fixture
def sign_in(browser: Callable[..., Any]) -> Callable[..., Any]:
    """Sign ``name`` in through the form; returns the signed-in client."""

    def do(name: str, password: str = PASSWORD, app: Any = None) -> Any:
        app = app or browser()
        form_page = app.get("/admin/")
        response = app.post("/admin/@@signin", {
            "username": name, "password": password, "csrf_token": csrf_of(form_page),
            "next": "/admin/"}, status=303)
        assert response.headers["Location"].endswith("/admin/")
        return app

    return do


# Browser fixtures (skip without Chromium): chromium, live_server, browser_session.
from .browser import browser_session, chromium, live_server  # noqa: E402, F401
