"""Fixtures for the core's tests: apps with other plugin sets on their own SQLite file."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture
def build_app(tmp_path: Path) -> Callable[..., Any]:
    """Build a migrated app with ``plugins`` on a fresh SQLite file."""
    from webtest import TestApp

    from plinth import make_app, schema

    def build(plugins: str, migrate: bool = True, **settings: Any) -> Any:
        app = make_app({"sqlalchemy.url": f"sqlite:///{tmp_path / 'app.sqlite'}",
                        "plinth.plugins": plugins, **settings})
        if migrate:
            schema.upgrade(app.registry, app.registry["plinth.engine"])
        return TestApp(app, extra_environ={"HTTP_HOST": "localhost",
                                           "REMOTE_ADDR": "127.0.0.1"})

    return build
