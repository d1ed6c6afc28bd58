"""Fixtures for the core's tests: apps with other plugin sets on their own SQLite file."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from plinth.interfaces import IReadEngine
from plinth.services import get_service


@pytest.fixture
def build_app(tmp_path: Path) -> Callable[..., Any]:
    """Build a migrated app with ``plugins`` on a fresh SQLite file."""
    from webtest import TestApp

    from plinth import make_app, schema

    def build(plugins: str, migrate: bool = True, **settings: Any) -> Any:
        app = make_app(
            {
                "sqlalchemy.url": f"sqlite:///{tmp_path / 'app.sqlite'}",
                "plinth.plugins": plugins,
                **settings,
            }
        )
        if migrate:
            schema.upgrade(app.registry, get_service(app.registry, IReadEngine))
        return TestApp(app, extra_environ={"HTTP_HOST": "localhost", "REMOTE_ADDR": "127.0.0.1"})

    return build


@pytest.fixture
def sign_in() -> Callable[..., dict[str, str]]:
    """Create a user in groups on a ``build_app`` app; returns its bearer header."""
    from plinth.cli import Environment
    from plinth_auth import services
    from plinth_auth.testing import PASSWORD

    def make(app: Any, name: str, *groups: str) -> dict[str, str]:
        registry = app.app.registry
        with Environment(registry, "testing.ini").session() as db:
            services.save_user(
                db, registry, name, services.Actor("test"), password=PASSWORD, groups=list(groups)
            )
        token = app.post_json("/auth/tokens", {"username": name, "password": PASSWORD}).json
        return {"Authorization": f"Bearer {token['token']}"}

    return make
