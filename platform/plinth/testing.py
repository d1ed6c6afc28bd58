"""Pytest fixtures for Plinth and its plugins (a pytest plugin, loaded by entry point).

Plugin authors get, with no conftest of their own:

- ``plinth_settings``: the settings of ``config/testing.ini`` (or the ini named
  by ``PLINTH_TEST_INI``) on a fresh SQLite file, or on the PostgreSQL database
  named by ``PLINTH_TEST_DATABASE_URL``;
- ``plinth_app``: the WSGI application, with the database built by the
  migrations once per session;
- ``testapp``: a WebTest ``TestApp`` on it; every table is emptied after each
  test that uses it, so requests really commit, as in production;
- ``dbsession``: a session in a transaction that is rolled back after the test,
  for service-level tests;
- ``as_principal(userid, *principals)``: a ``TestApp`` whose requests act as
  that identity, without users or tokens;
- ``sql_counter``: counts the SQL statements an operation issues;
- ``plinth_cli(*args, input=None)``: runs ``plinth -c INI ARGS...`` in this
  process on the test database with the plugins the test settings enable,
  and returns click's ``Result``;
- ``clock``: moves Plinth's time forward (``clock.advance(hours=2)``) for
  expiries, instead of back-dating rows (this process only, not
  ``plinth_servers``);
- ``plinth_servers``: two real Waitress processes on the test database (see
  :mod:`plinth.testservers` for ``call`` and ``race``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.orm import Session
from zope.interface import implementer

from . import clock as plinth_clock
from .cli import cli  # also public: the plinth command, for CliRunner in tests
from .interfaces import IIdentityProvider, IReadEngine, IWriteEngine
from .resets import run_test_resets
from .security import Identity
from .securitycache import clear_all
from .services import get_service, query_service
from .testservers import plinth_servers  # noqa: F401 - a fixture of this plugin

IDENTITY_KEY = "plinth.testing.identity"


def database_url(tmp_dir: Path) -> str:
    url = os.environ.get("PLINTH_TEST_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{tmp_dir / 'plinth-test.sqlite'}"


def reset_database(engine: Any) -> None:
    """Drop everything, so that the migrations build the schema from nothing."""
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))


def migrate(registry: Any) -> None:
    """Apply the migrations of the core and the enabled plugins (``plinth db upgrade``)."""
    from . import schema

    schema.upgrade(registry, get_service(registry, IReadEngine))


def empty_tables(engine: Any) -> None:
    from .db import Base

    # The security version's one row stays: emptying the security tables
    # bumps it (triggers), so no process keeps a cached token of a past test.
    tables = [t.name for t in reversed(Base.metadata.sorted_tables) if t.name != "security_version"]
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(
                text(
                    "TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"
                )
            )
        else:
            for table in tables:
                connection.execute(text(f'DELETE FROM "{table}"'))  # noqa: S608 - the metadata's names


def acl_entry(principal: str, permission: str, action: str = "Allow") -> dict[str, str]:
    """One entry of a ``PUT @@acl`` body."""
    return {"action": action, "principal": principal, "permission": permission}


@implementer(IIdentityProvider)
class TestingIdentityProvider:
    """Lets a test act as any identity; otherwise asks the real provider."""

    def __init__(self, real: Any):
        self.real = real
        self.scheme = getattr(real, "scheme", None)

    def identify(self, request: Any) -> Identity | None:
        identity = request.environ.get(IDENTITY_KEY)
        if identity is not None:
            return identity
        return self.real.identify(request) if self.real is not None else None

    def expand_principal(self, db: Any, principal: str) -> list[str] | None:
        if self.real is not None:
            return self.real.expand_principal(db, principal)
        return [principal]

    def allowed_users(self, db: Any, rule: Any, after: str | None, limit: int | None) -> list[str]:
        if self.real is None or not hasattr(self.real, "allowed_users"):
            return []
        return list(self.real.allowed_users(db, rule, after, limit))

    def members(self, db: Any) -> Any:
        if self.real is None or not hasattr(self.real, "members"):
            return None
        return self.real.members(db)


@pytest.fixture(scope="session")
def plinth_ini(pytestconfig: pytest.Config) -> str:
    return os.environ.get("PLINTH_TEST_INI") or str(
        pytestconfig.rootpath / "config" / "testing.ini"
    )


@pytest.fixture(scope="session")
def plinth_settings(plinth_ini: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    from pyramid.paster import get_appsettings

    settings = dict(get_appsettings(plinth_ini))
    settings["sqlalchemy.url"] = database_url(tmp_path_factory.mktemp("db"))
    return settings


@pytest.fixture(scope="session")
def plinth_app(plinth_settings: dict[str, Any]) -> Any:
    from . import make_app, schema

    app = make_app(dict(plinth_settings))
    registry = app.registry
    engine = get_service(registry, IReadEngine)
    reset_database(engine)
    schema.upgrade(registry, engine)
    use_testing_identity_provider(registry)
    return app


def use_testing_identity_provider(registry: Any) -> None:
    """Let requests carrying an identity in their environ act as it (``as_principal``)."""
    from pyramid.config import Configurator

    real = query_service(registry, IIdentityProvider)
    # A configurator on the committed registry replaces the service: an
    # override by the test, not a second plugin claiming it.
    config = Configurator(registry=registry)
    config.register_service(TestingIdentityProvider(real), IIdentityProvider)
    config.commit()


@pytest.fixture
def plinth_registry(plinth_app: Any) -> Any:
    return plinth_app.registry


@pytest.fixture
def plinth_engine(plinth_app: Any) -> Any:
    return get_service(plinth_app.registry, IReadEngine)


@pytest.fixture
def clean_database(plinth_app: Any) -> Iterator[None]:
    yield
    empty_tables(get_service(plinth_app.registry, IReadEngine))
    run_test_resets(plinth_app.registry)


@pytest.fixture
def testapp(plinth_app: Any, clean_database: None) -> Any:
    from webtest import TestApp

    return TestApp(plinth_app, extra_environ={"HTTP_HOST": "localhost", "REMOTE_ADDR": "127.0.0.1"})


@pytest.fixture
def as_principal(plinth_app: Any, clean_database: None) -> Callable[..., Any]:
    from webtest import TestApp

    def make(userid: str, *principals: str) -> Any:
        identity = Identity(
            userid=userid,
            principals=frozenset({userid, *principals}),
            extra={"user": userid.partition(":")[2]},
        )
        return TestApp(
            plinth_app,
            extra_environ={
                "HTTP_HOST": "localhost",
                "REMOTE_ADDR": "127.0.0.1",
                IDENTITY_KEY: identity,
            },
        )

    return make


@pytest.fixture
def dbsession(plinth_app: Any) -> Iterator[Session]:
    engine = get_service(plinth_app.registry, IWriteEngine)
    connection = engine.connect()
    transaction = connection.begin()
    session = Session(bind=connection, join_transaction_mode="create_savepoint")
    try:
        yield session
    finally:
        session.close()
        transaction.rollback()
        connection.close()
        # A rolled-back security version is read again by later transactions:
        # nothing cached while it was visible may outlive it.
        clear_all(plinth_app.registry)


class SQLCounter:
    def __init__(self) -> None:
        self.statements: list[str] = []

    @property
    def count(self) -> int:
        return len(self.statements)


@pytest.fixture
def sql_counter(plinth_app: Any) -> Callable[[], Any]:
    engine = get_service(plinth_app.registry, IReadEngine)

    @contextmanager
    def counting() -> Iterator[SQLCounter]:
        counter = SQLCounter()

        def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
            if statement.strip().upper() not in ("BEGIN", "BEGIN IMMEDIATE", "COMMIT", "ROLLBACK"):
                counter.statements.append(statement)

        event.listen(engine, "before_cursor_execute", record)
        try:
            yield counter
        finally:
            event.remove(engine, "before_cursor_execute", record)

    return counting


class MovableClock:
    """Real time plus an offset that a test moves forward; it keeps ticking,
    so that rows written one after the other still get later stamps."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return plinth_clock.system_clock() + self.offset

    def advance(self, **delta: float) -> datetime:
        """Move time forward by ``timedelta(**delta)``; returns the new now."""
        self.offset += timedelta(**delta)
        return self()


@pytest.fixture
def clock() -> Iterator[MovableClock]:
    movable = MovableClock()
    with plinth_clock.using(movable):
        yield movable


@pytest.fixture
def plinth_cli(
    plinth_settings: dict[str, Any], clean_database: None, tmp_path: Path
) -> Callable[..., Any]:
    """Run ``plinth -c <ini> ARGS...``; the tables are emptied after the test.

    Requests made through ``testapp`` have committed before a command runs,
    so no other transaction is open while the command's own engine writes.
    """
    from click.testing import CliRunner

    ini = tmp_path / "plinth-cli.ini"
    url = plinth_settings["sqlalchemy.url"].replace("%", "%%")
    plugins = " ".join(str(plinth_settings.get("plinth.plugins", "")).split())
    ini.write_text(
        f"[app:main]\nuse = egg:plinth\nplinth.plugins = {plugins}\nsqlalchemy.url = {url}\n"
    )

    def run(*args: str, input: str | None = None) -> Any:  # noqa: A002 - CliRunner's name
        return CliRunner().invoke(cli, ["-c", str(ini), *args], input=input, catch_exceptions=False)

    return run
