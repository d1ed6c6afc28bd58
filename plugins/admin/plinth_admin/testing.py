"""Pytest fixtures for tests of admin console pages (a pytest plugin).

Loaded through the ``pytest11`` entry point, beside the core's and the
auth plugin's: ``console_browser`` (a fresh WebTest client, one browser's
cookie jar) and ``console`` (signs a user in through the sign-in form), so
that any plugin's tests of its console pages sign in the way a browser does.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(response: Any) -> str:
    """The CSRF token of the first form on a console page."""
    match = CSRF.search(response.text)
    assert match is not None, "the page has no form with a CSRF token"
    return match.group(1)


@pytest.fixture
def console_browser(plinth_app: Any, clean_database: None) -> Callable[..., Any]:
    """A fresh WebTest client with its own cookie jar (one browser)."""
    from webtest import TestApp

    def make(remote_addr: str = "127.0.0.1") -> Any:
        return TestApp(
            plinth_app, extra_environ={"HTTP_HOST": "localhost", "REMOTE_ADDR": remote_addr}
        )

    return make


@pytest.fixture
def console(console_browser: Callable[..., Any]) -> Callable[..., Any]:
    """``console(name)``: sign ``name`` in through the form; the signed-in client."""
    from plinth_auth.testing import PASSWORD

    def sign_in(name: str, password: str = PASSWORD, app: Any = None) -> Any:
        app = app or console_browser()
        form_page = app.get("/admin/")
        response = app.post(
            "/admin/@@signin",
            {
                "username": name,
                "password": password,
                "csrf_token": csrf_of(form_page),
                "next": "/admin/",
            },
            status=303,
        )
        assert response.headers["Location"].endswith("/admin/")
        return app

    return sign_in
