"""Engine, session and ``request.db``.

The engine is built once and registered as a service (``IReadEngine``, and
``IWriteEngine`` for transactions that write).  Each request gets a
session joined to its transaction (pyramid_tm + zope.sqlalchemy): views never
commit, an error response vetoes the commit, and pyramid_retry replays the
request on a transient database error.  A request that cannot write
(GET/HEAD/OPTIONS) runs its statements in autocommit mode (:func:`autocommit`)
and is refused any write (:class:`WriteInReadOnlyRequest`).

SQLite runs in WAL mode with a busy timeout and foreign keys on.  A request
that may write (any method but GET/HEAD/OPTIONS) opens its transaction with
``BEGIN IMMEDIATE``: the write lock is taken up front and waits for the busy
timeout, instead of failing with "database is locked" when two deferred
transactions both try to upgrade from reading to writing.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

import transaction
import zope.sqlalchemy
from sqlalchemy import MetaData, create_engine, event, literal_column
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from transaction.interfaces import NoTransaction

from .interfaces import IReadEngine, ISessionFactory, IWriteEngine

log = logging.getLogger(__name__)

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """The one declarative base; the core and every plugin share its metadata."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
WRITE_OPTION = "plinth_write"
# SQLite's connections run with pysqlite's own transaction handling off; this
# option leaves out the BEGIN that the begin listener otherwise sends.
AUTOCOMMIT_OPTION = "plinth_autocommit"
# The engine of requests that cannot write: their writes are refused.
READ_ONLY_OPTION = "plinth_read_only"


def make_engine(url: str, **kwargs: Any) -> Engine:
    if url.startswith("sqlite"):
        engine = _make_sqlite_engine(url, **kwargs)
    else:
        kwargs.setdefault("pool_pre_ping", True)
        engine = create_engine(url, **kwargs)
    track_writes(engine)
    return engine


# Set on a connection's info from the first statement of its transaction that
# is not a plain read until the transaction ends.
WROTE = "plinth_wrote"
# What cannot change data: a query, and the BEGIN that SQLite's listener sends.
# Anything else (INSERT, UPDATE, DELETE, WITH, SAVEPOINT, DDL, ...) counts as a
# write, whether or not it changes a row.
READ_ONLY = re.compile(r"\s*(SELECT|BEGIN)\b", re.IGNORECASE)
# What a request that cannot write is refused.
WRITE = re.compile(
    r"\s*(INSERT|UPDATE|DELETE|MERGE|REPLACE|UPSERT|TRUNCATE|CREATE|DROP|ALTER)\b", re.IGNORECASE
)


def track_writes(engine: Engine) -> None:
    """Note, on each connection, whether its transaction has sent a write.

    The per-process security caches (:mod:`plinth.securitycache`) serve a
    request that may write only until then: before its first write a
    transaction sees committed data alone, after it also its own changes,
    which must not reach a cache shared with other requests.
    """

    @event.listens_for(engine, "begin")
    def _clean(conn: Any) -> None:
        conn.info[WROTE] = False

    @event.listens_for(engine, "before_cursor_execute")
    def _note(
        conn: Any, _cursor: Any, statement: str, _params: Any, _context: Any, _many: bool
    ) -> None:
        if conn.get_execution_options().get(READ_ONLY_OPTION) and WRITE.match(statement):
            raise WriteInReadOnlyRequest(
                f"a GET, HEAD or OPTIONS request cannot write: {statement[:80]!r}"
            )
        if not conn.info.get(WROTE) and not READ_ONLY.match(statement):
            conn.info[WROTE] = True


class WriteInReadOnlyRequest(RuntimeError):
    """A request that cannot write sent a write: a bug in its view.

    Such a request runs in autocommit, outside any transaction, so the write
    would have been kept at once, alone, whatever the response said.
    """


def has_written(session: Session) -> bool:
    """Whether ``session``'s transaction has sent anything but reads so far
    (beginning the transaction if it had not begun)."""
    return bool(session.connection().info.get(WROTE))


def _make_sqlite_directory(url: str) -> None:
    """Create the directory of a SQLite database file (``var/`` on a fresh checkout).

    SQLite creates the file but not its directory; without this the first
    ``plinth db upgrade`` failed with "unable to open database file".
    """
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    try:
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    except OSError:
        pass  # opening the database then fails with the reason, named by the caller


def _make_sqlite_engine(url: str, busy_timeout_ms: int = 30000, **kwargs: Any) -> Engine:
    _make_sqlite_directory(url)
    engine = create_engine(
        url,
        connect_args={"timeout": busy_timeout_ms / 1000, "check_same_thread": False},
        **kwargs,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy, not pysqlite, decide when a transaction begins.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        if ":memory:" not in url and url not in ("sqlite://", "sqlite:///"):
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        options = conn.get_execution_options()
        if options.get(WRITE_OPTION):
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        elif not options.get(AUTOCOMMIT_OPTION):
            conn.exec_driver_sql("BEGIN")

    return engine


# One transaction manager per thread, in explicit mode, used by pyramid_tm for
# every request on that thread (``tm.manager_hook``).  Because it is the same
# object for every request, sessions are joined to it by registering
# zope.sqlalchemy once on the session factory, instead of hooking events onto
# each new session (which cost a fifth of a cheap request).
transaction_manager = transaction.ThreadTransactionManager()


def request_transaction_manager(request: Any) -> Any:
    """pyramid_tm's ``tm.manager_hook``: this thread's explicit manager.

    pyramid_tm answers a failed commit (the database gone in the middle of
    it, say) with the exception view but leaves the failed transaction on
    the manager; the manager is shared by every request of the thread, so
    that transaction is aborted here before the next request begins its own.
    """
    transaction_manager.explicit = True
    try:
        leftover = transaction_manager.get()
    except NoTransaction:
        return transaction_manager
    try:
        leftover.abort()
    except Exception:
        log.warning("could not abort a failed transaction left on this thread", exc_info=True)
    try:
        transaction_manager.manager.free(leftover)
    except ValueError:
        pass  # the abort freed it
    return transaction_manager


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    zope.sqlalchemy.register(factory, transaction_manager=transaction_manager)
    event.listen(factory, "do_orm_execute", _core_writes_count)
    return factory


def _core_writes_count(state: Any) -> None:
    """An INSERT, UPDATE or DELETE on a Table, run by ``session.execute``,
    joins the commit as an ORM change does.

    zope.sqlalchemy marks a session changed on ORM writes only; a session
    never marked is rolled back at the end of the request, so such a
    statement would answer success and keep nothing.
    """
    if not state.is_orm_statement and (state.is_insert or state.is_update or state.is_delete):
        zope.sqlalchemy.mark_changed(state.session, transaction_manager=transaction_manager)


def autocommit(engine: Engine) -> Engine:
    """``engine`` for requests that cannot write: each statement commits alone.

    Such a request's statements need no transaction around them: on
    PostgreSQL, under READ COMMITTED, each statement sees its own snapshot
    anyway, and SQLite in autocommit mode gives each statement its own too.
    What it saves is a round trip to begin and one to end every read
    request on PostgreSQL, and a statement on SQLite.  The security caches
    need no more than that (:mod:`plinth.securitycache`: data read after
    the version is never older than it).
    """
    if engine.dialect.name == "sqlite":
        return engine.execution_options(**{AUTOCOMMIT_OPTION: True, READ_ONLY_OPTION: True})
    return engine.execution_options(isolation_level="AUTOCOMMIT", **{READ_ONLY_OPTION: True})


def request_db_method(
    factory: sessionmaker[Session], write_engine: Engine, read_engine: Engine
) -> Any:
    """``request.db``: the request's session, joined to its transaction when first used.

    The factory and engine are bound here, once, rather than looked up on
    every request: this runs on every request that reads the database.
    """

    def request_db(request: Any) -> Session:
        session = factory()
        session.bind = read_engine if request.method in SAFE_METHODS else write_engine
        return session

    return request_db


def insert_missing(db: Session, model: Any, values: dict[str, Any]) -> bool:
    """Insert a row unless one with the same unique key exists; True if inserted.

    ``INSERT ... ON CONFLICT DO NOTHING``: when a concurrent transaction has
    inserted the key and not yet committed, this waits for it instead of
    failing on the unique index, so that the first write of a row never ends
    in a unique violation (a 500).  Select the row afterwards (``FOR UPDATE``
    when it will be changed) to work on it, whoever inserted it.
    """
    bind = db.get_bind()
    insert = pg_insert if bind.dialect.name == "postgresql" else sqlite_insert
    # RETURNING, because the row count of such an insert is not reliable.
    stmt: Any = (
        insert(model).values(**values).on_conflict_do_nothing().returning(literal_column("1"))
    )
    return db.execute(stmt).first() is not None


def includeme(config: Any) -> None:
    settings = config.registry.settings
    engine = make_engine(settings["sqlalchemy.url"])
    write_engine = engine.execution_options(**{WRITE_OPTION: True})
    factory = make_session_factory(engine)
    config.register_service(engine, IReadEngine)
    config.register_service(write_engine, IWriteEngine)
    config.register_service(factory, ISessionFactory)
    config.add_request_method(
        request_db_method(factory, write_engine, autocommit(engine)), "db", reify=True
    )
