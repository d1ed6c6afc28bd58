"""Models and migrations agree (the equivalent of ``alembic check``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

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


STOCK_FIRST = "570c00000001"


def test_upgrading_gives_existing_ledger_lines_their_running_balance(tmp_path: Path) -> None:
    from plinth import make_configurator

    config = make_configurator(
        {"sqlalchemy.url": f"sqlite:///{tmp_path / 'old.sqlite'}", "plinth.plugins": "stock"}
    )
    config.commit()
    registry = config.registry
    engine = get_service(registry, IReadEngine)
    cfg = schema.alembic_config(registry)
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "core@head")
        command.upgrade(cfg, STOCK_FIRST)
    # A ledger written before lines kept their balance: two levels, interleaved.
    lines = [(1, 1, 10), (2, 1, 4), (1, 1, -3), (1, 2, 7), (2, 1, -4), (1, 1, 5), (1, 2, -2)]
    with engine.begin() as connection:
        now = "2026-01-01 00:00:00.000000"
        for n in (1, 2):
            connection.execute(
                text(
                    "INSERT INTO stock_items (id, sku, name, unit, reorder_point, unit_cost, "
                    "active, version, created_at, updated_at) "
                    "VALUES (:n, :sku, 'item', 'each', 0, 0, 1, 1, :now, :now)"
                ),
                {"n": n, "sku": f"S-{n}", "now": now},
            )
            connection.execute(
                text(
                    "INSERT INTO stock_locations (id, code, name, version, created_at, updated_at)"
                    " VALUES (:n, :code, 'place', 1, :now, :now)"
                ),
                {"n": n, "code": f"L{n}", "now": now},
            )
        for item_id, location_id, quantity in lines:
            connection.execute(
                text(
                    "INSERT INTO stock_movements (item_id, location_id, kind, quantity, "
                    "created_at) VALUES (:i, :l, 'adjustment', :q, :now)"
                ),
                {"i": item_id, "l": location_id, "q": quantity, "now": now},
            )

    schema.upgrade(registry, engine)

    with engine.connect() as connection:
        stored = connection.execute(
            text("SELECT item_id, location_id, balance FROM stock_movements ORDER BY id")
        ).all()
    assert [tuple(row) for row in stored] == [
        (1, 1, 10),
        (2, 1, 4),
        (1, 1, 7),
        (1, 2, 7),
        (2, 1, 0),
        (1, 1, 12),
        (1, 2, 5),
    ]
    columns = {c["name"]: c for c in inspect(engine).get_columns("stock_movements")}
    assert columns["balance"]["nullable"] is False

    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, STOCK_FIRST)
    assert "balance" not in {c["name"] for c in inspect(engine).get_columns("stock_movements")}
