"""Pytest fixtures for tests that need real users and tokens (a pytest plugin).

Loaded through the ``pytest11`` entry point, beside the core's
``plinth.testing``: ``make_user``, ``login`` and ``admin``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

PASSWORD = "correct-horse-battery-staple"  # noqa: S105 - the test users' password


@pytest.fixture
def make_user(plinth_registry: Any) -> Callable[..., str]:
    """Create a user (real argon2 hashing) and return its name."""
    from plinth.api import Environment

    from . import services

    env = Environment(plinth_registry, "testing.ini")

    def make(name: str, *groups: str, password: str = PASSWORD, active: bool = True) -> str:
        with env.session() as db:
            services.save_user(
                db,
                plinth_registry,
                name,
                services.Actor("test"),
                password=password,
                groups=list(groups),
                active=active,
            )
        return name

    return make


@pytest.fixture
def login(testapp: Any) -> Callable[..., dict[str, str]]:
    """Issue a token through the API and return the Authorization header."""

    def do(name: str, password: str = PASSWORD) -> dict[str, str]:
        response = testapp.post_json(
            "/auth/tokens", {"username": name, "password": password}, status=201
        )
        return {"Authorization": f"Bearer {response.json['token']}"}

    return do


@pytest.fixture
def admin(make_user: Callable[..., str], login: Callable[..., dict[str, str]]) -> dict[str, str]:
    make_user("admin", "admins")
    return login("admin")
