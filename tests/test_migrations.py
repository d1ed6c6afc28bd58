"""Models and migrations agree (the equivalent of ``alembic check``)."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from plinth import schema
from plinth.db import Base


def test_models_match_migrations(plinth_app: Any) -> None:
    engine = plinth_app.registry["plinth.engine"]
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


def test_every_enabled_branch_is_applied(plinth_app: Any) -> None:
    registry = plinth_app.registry
    state = schema.branch_state(registry, registry["plinth.engine"])
    enabled = {p.name for p in registry["plinth.plugins"]}
    assert set(state) >= {"core"} | (enabled & {"auth", "stock"})
    assert not any(s["pending"] for s in state.values())
