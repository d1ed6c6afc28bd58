"""A plugin's life in the database: no revisions yet, uninstalled, retired for good.

Each test gets a database of its own: a fresh SQLite file, or a fresh
PostgreSQL database next to the one ``PLINTH_TEST_DATABASE_URL`` names.
"""

from __future__ import annotations

import importlib
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from plinth.cli import cli
from plinth.testing import database_url

THINGS_REVISION = '''"""{name} things"""
from alembic import op
import sqlalchemy as sa

revision = "{revision}"
down_revision = None
branch_labels = ("{name}",)
depends_on = None


def upgrade() -> None:
    op.create_table("{name}_things", sa.Column("id", sa.Integer, primary_key=True))


def downgrade() -> None:
    op.drop_table("{name}_things")
'''


@pytest.fixture
def fresh_url(tmp_path: Path) -> Iterator[str]:
    """An empty database of this test's own, dropped afterwards."""
    url = database_url(tmp_path)
    if not url.startswith("postgresql"):
        yield url
        return
    name = f"plinth_lifecycle_{uuid.uuid4().hex[:12]}"
    server = create_engine(url, isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(url).set(database=name).render_as_string(hide_password=False)
    finally:
        with server.connect() as connection:
            connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        server.dispose()


@pytest.fixture
def make_plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., str]:
    """Write a plugin package that owns a migration branch; returns its module name.

    With ``revision`` its branch has one revision creating ``<name>_things``;
    without, its version folder is empty, as a new plugin's is.
    """
    root = tmp_path / "site"
    root.mkdir()
    monkeypatch.syspath_prepend(str(root))

    def make(name: str, revision: str | None = None) -> str:
        versions = root / name / "migrations" / "versions"
        versions.mkdir(parents=True)
        (root / name / "__init__.py").write_text(
            "def includeme(config):\n"
            f"    config.add_migrations({name!r}, {name + ':migrations/versions'!r})\n"
        )
        (root / name / "migrations" / "__init__.py").write_text("")
        if revision is not None:
            (versions / f"{revision}_things.py").write_text(
                THINGS_REVISION.format(name=name, revision=revision)
            )
        monkeypatch.delitem(sys.modules, name, raising=False)
        importlib.invalidate_caches()
        return name

    return make


@pytest.fixture
def plinth_at(tmp_path: Path, fresh_url: str) -> Callable[..., Callable[..., Result]]:
    """``plinth_at(plugins)``: runs ``plinth`` with an ini enabling ``plugins``."""

    def at(plugins: str) -> Callable[..., Result]:
        ini = tmp_path / f"{uuid.uuid4().hex}.ini"
        ini.write_text(
            "[app:main]\nuse = egg:plinth\n"
            f"plinth.plugins = {plugins}\n"
            f"sqlalchemy.url = {fresh_url.replace('%', '%%')}\n"
        )

        def run(*args: str, code: int = 0, input: str | None = None) -> Result:
            result = CliRunner().invoke(
                cli, ["-c", str(ini), *args], input=input, env={"PLINTH_OPERATOR": "tester"}
            )
            assert result.exit_code == code, result.output
            return result

        return run

    return at


@pytest.fixture
def web_at(fresh_url: str, sign_in: Callable[..., dict[str, str]]) -> Callable[..., Any]:
    """``web_at(plugins)``: a WebTest app on the same database, and a superuser's header."""
    from webtest import TestApp

    from plinth import make_app

    def at(plugins: str) -> tuple[Any, dict[str, str]]:
        app = TestApp(
            make_app({"sqlalchemy.url": fresh_url, "plinth.plugins": plugins}),
            extra_environ={"HTTP_HOST": "localhost", "REMOTE_ADDR": "127.0.0.1"},
        )
        return app, sign_in(app, f"root{uuid.uuid4().hex[:6]}", "admins")

    return at


def tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_a_branch_without_revisions_says_how_to_write_the_first(
    make_plugin: Any, plinth_at: Any, web_at: Any
) -> None:
    shelves = make_plugin("shelves_new")
    plinth = plinth_at(f"auth {shelves}")
    plinth("db", "upgrade")
    hint = f"no revisions yet: run 'plinth db revision {shelves} -m MESSAGE'"
    current = plinth("db", "current").output
    assert f"{shelves}: {hint}" in current
    assert f"{shelves}: applied" not in current and "auth: applied" in current
    assert f"  {shelves} unknown ({hint})" in plinth("plugins").output

    app, admin = web_at(f"auth {shelves}")
    migrations = app.get("/ready", headers=admin).json["checks"]["migrations"]
    assert migrations["ok"] is True and migrations["no_revisions"] == [shelves]
    assert hint in migrations["message"]
    assert app.get("/ready").json == {"status": "ready"}

    # following the hint: the first revision, then it is pending, then applied
    plinth("db", "revision", shelves, "-m", "first")
    assert f"{shelves}: applied None" in plinth("db", "current", code=1).output
    assert "pending" in plinth("plugins").output
    plinth("db", "upgrade")
    assert hint not in plinth("db", "current").output


def test_revisions_of_an_uninstalled_plugin_are_named_with_the_fix(
    make_plugin: Any, plinth_at: Any, web_at: Any, fresh_url: str
) -> None:
    gone = make_plugin("shelves_gone", revision="5be1f0000001")
    plinth_at(f"auth {gone}")("db", "upgrade")
    # the plugin is neither enabled nor installed (no entry point) any more
    plinth = plinth_at("auth")

    current = plinth("db", "current", code=1).output
    assert "5be1f0000001 that no installed plugin knows" in current
    assert "plinth db forget 5be1f0000001" in current
    assert "not installed:" in plinth("plugins").output
    upgrade = plinth("db", "upgrade", code=1).output
    assert upgrade.startswith("Error: the database holds revision(s) 5be1f0000001")
    assert len(upgrade.strip().splitlines()) == 1

    app, admin = web_at("auth")
    body = app.get("/ready", headers=admin, status=503).json
    assert body["error"] == "not_ready" and "5be1f0000001" in body["message"]
    assert body["details"]["checks"]["migrations"]["unknown"] == ["5be1f0000001"]
    anonymous = app.get("/ready", status=503).json
    assert anonymous["message"] == "not ready" and anonymous["details"] == {}

    # refusals change nothing
    assert "belongs to an installed plugin" in plinth("db", "forget", "c0de00000001", code=1).output
    assert "not in the database" in plinth("db", "forget", "feed00000000", code=1).output

    assert "tables it created are still there" in plinth("db", "forget", "5be1f0000001").output
    assert "no installed plugin knows" not in plinth("db", "current").output
    plinth("db", "upgrade")
    app.get("/ready", status=200)
    assert f"{gone}_things" in tables(fresh_url)


def test_retiring_a_plugin_for_good(plinth_at: Any, fresh_url: str) -> None:
    both = plinth_at("auth stock")
    both("db", "upgrade")
    assert "stock_items" in tables(fresh_url)

    # it asks first, and no answer changes nothing
    both("db", "downgrade", "stock", input="n\n", code=1)
    assert "stock_items" in tables(fresh_url)
    assert "cannot be retired" in both("db", "downgrade", "core", "--yes", code=1).output
    assert (
        "no migration branch 'nosuch'" in both("db", "downgrade", "nosuch", "--yes", code=1).output
    )

    assert "downgraded to base" in both("db", "downgrade", "stock", "--yes").output
    assert not any(t.startswith("stock_") for t in tables(fresh_url))
    # while still enabled, it is simply pending again
    assert "stock: applied None" in both("db", "current", code=1).output

    only_auth = plinth_at("auth")
    only_auth("db", "upgrade")
    current = only_auth("db", "current").output
    assert "stock" not in current and "no installed plugin knows" not in current
    assert "stock" in only_auth("plugins").output.split("installed, not enabled:")[1]


def test_ready_flags_an_unknown_revision_on_the_test_database(
    as_principal: Any, plinth_app: Any, plinth_engine: Any
) -> None:
    from plinth import schema

    admin = as_principal("user:root", "group:admins")
    engine = plinth_engine
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO alembic_version VALUES ('0123456789ab')"))
    try:
        body = admin.get("/ready", status=503).json
        assert body["details"]["checks"]["migrations"]["unknown"] == ["0123456789ab"]
        with pytest.raises(schema.SchemaError, match="plinth db forget 0123456789ab"):
            schema.upgrade(plinth_app.registry, engine)
    finally:
        with engine.begin() as connection:
            connection.execute(
                text("DELETE FROM alembic_version WHERE version_num = '0123456789ab'")
            )
    admin.get("/ready", status=200)
