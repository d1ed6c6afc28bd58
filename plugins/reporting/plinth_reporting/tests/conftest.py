"""Fixtures shared by the reporting plugin's tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from plinth.api import IReadEngine, query_service


@pytest.fixture
def boss(as_principal: Any) -> Any:
    """A TestApp acting as an administrator (group:admins holds everything)."""
    return as_principal("user:boss", "group:admins")


@pytest.fixture
def other_app(plinth_settings: dict[str, Any], testapp: Any) -> Iterator[Callable[..., Any]]:
    """Build another app on the test database (already migrated by the session app).

    ``other_app("auth stock", **settings)`` returns a WebTest app; requests
    authenticate with real bearer tokens (the ``admin`` fixture's), which live
    in the shared database.  Depending on ``testapp`` empties the tables after.
    """
    from webtest import TestApp

    from plinth.api import make_app

    engines: list[Any] = []

    def build(plugins: str, **settings: Any) -> Any:
        app = make_app({**plinth_settings, "plinth.plugins": plugins, **settings})
        engines.extend(
            e
            for e in (
                query_service(app.registry, IReadEngine),
                query_service(app.registry, IReadEngine, "reporting"),
            )
            if e is not None
        )
        return TestApp(app, extra_environ={"HTTP_HOST": "localhost", "REMOTE_ADDR": "127.0.0.1"})

    yield build
    for engine in engines:
        engine.dispose()
