"""Models and migrations agree (the equivalent of ``alembic check``)."""

from __future__ import annotations

from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from plinth import schema
from plinth.db import Base
from plinth.interfaces import IReadEngine
from plinth.services import get_service


def test_models_match_migrations(plinth_app: Any) -> None:
    engine = get_service(plinth_app.registry, IReadEngine)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


def test_every_enabled_branch_is_applied(plinth_app: Any) -> None:
    registry = plinth_app.registry
    state = schema.branch_state(registry, get_service(registry, IReadEngine))
    enabled = {p.name for p in registry["plinth.plugins"]}
    assert set(state) >= {"core"} | (enabled & {"auth", "stock"})
    assert not any(s["pending"] for s in state.values())


def test_disabling_a_plugin_keeps_upgrades_working(tmp_path: Any) -> None:
    """A disabled plugin's revision stays in the database; upgrades go on."""
    from plinth import make_configurator

    url = f"sqlite:///{tmp_path / 'plugins.sqlite'}"

    def registry(plugins: str) -> Any:
        config = make_configurator({"sqlalchemy.url": url, "plinth.plugins": plugins})
        config.commit()
        return config.registry

    both = registry("auth stock")
    schema.upgrade(both, get_service(both, IReadEngine))
    only_auth = registry("auth")
    # would fail to find stock's revision
    schema.upgrade(only_auth, get_service(only_auth, IReadEngine))
    state = schema.branch_state(only_auth, get_service(only_auth, IReadEngine))
    assert set(state) == {"core", "auth"} and not any(s["pending"] for s in state.values())
    with get_service(only_auth, IReadEngine).begin() as connection:
        connection.exec_driver_sql("INSERT INTO alembic_version VALUES ('0123456789ab')")
    with pytest.raises(schema.SchemaError, match="no installed plugin knows"):
        schema.upgrade(only_auth, get_service(only_auth, IReadEngine))


def test_every_security_table_has_its_trigger(plinth_app: Any, plinth_engine: Any) -> None:
    from plinth.securityversion import missing_triggers

    registry = plinth_app.registry
    assert {"auth_tokens", "auth_users", "auth_memberships", "acl_entries", "acl_roles"} <= set(
        registry["plinth.security_tables"]
    )
    with plinth_engine.connect() as connection:
        assert missing_triggers(registry, connection) == []
