"""The security version: one row that every change to security data bumps.

Tokens, users, memberships, roles and stored ACL entries are "security
tables".  Database triggers, created by the migrations, bump the single row of
``security_version`` in the same transaction as any insert, delete or update of
them (and a TRUNCATE on PostgreSQL).  Triggers, not ORM events: a Core
``update()``, the CLI, a bulk ``DELETE`` or an operator's psql session cannot
forget the bump.  Per-process caches (:mod:`plinth.securitycache`) key what
they hold by this version, so a change decides the very next request on every
process.

Only security writes take the row's lock, and they are rare; stock writes never
touch it, so it does not serialise them.  Every security writer takes that lock
*first* (:func:`lock_for_write`), before locking a user or an ACL row: the
triggers would otherwise take it in the middle, and two writers holding one
lock each would wait for the other's (a deadlock).

A plugin with a table of its own that decides who may do what (roles, say)
adds it to the list in two lines:

- in its migration: ``bump_on_change(op, "roles")`` (and ``drop_bump(op,
  "roles")`` in ``downgrade``); the core's branch, which creates the table
  and PostgreSQL's trigger function, is always upgraded first;
- in its ``includeme``: ``config.declare_security_table("roles")``, so that
  ``missing_triggers`` (run by the core's tests) fails when the trigger is not
  there.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import BigInteger, Integer, select, text
from sqlalchemy.orm import Mapped, mapped_column

from .db import Base
from .directives import register_once

FUNCTION = "plinth_bump_security_version"
TABLES_KEY = "plinth.security_tables"


class SecurityVersion(Base):
    """The one row whose ``version`` changes with every security write."""

    __tablename__ = "security_version"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, nullable=False)


VERSION = SecurityVersion.__table__.c.version
# Built once: the hot path reads the version as a column of its own statement.
VERSION_QUERY = select(VERSION)
VERSION_COLUMN = select(VERSION).scalar_subquery().label("security_version")
BUMP = "UPDATE security_version SET version = version + 1"
LOCK = select(SecurityVersion.id).with_for_update()


def lock_for_write(db: Any) -> None:
    """Queue behind every other writer of security data, before any other lock.

    Call it first in a service that writes a security table.  The triggers
    lock the version row at a transaction's first security write and keep it
    to the end; a writer that had locked a user's or an ACL's row before then
    would wait for the version while holding that row, and one that had
    already written (on PostgreSQL even an ``INSERT ... ON CONFLICT DO
    NOTHING`` that inserted nothing fires the statement trigger) would wait for
    the row while holding the version.  Taken first, the version row puts all
    security writers in one queue, in one lock order.  On SQLite the write
    lock, taken when the transaction began, already does.
    """
    db.execute(LOCK)


def trigger_name(table: str, event: str) -> str:
    return f"bump_security_version_{table}_{event}"


def create_function(op: Any) -> None:
    """PostgreSQL's trigger function (SQLite triggers carry their own body)."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"CREATE FUNCTION {FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN {BUMP}; RETURN NULL; END $$"
        )


def bump_on_change(op: Any, table: str, update_columns: Iterable[str] = ()) -> None:
    """Triggers bumping the version on any change to ``table``.

    ``update_columns`` limits the UPDATE trigger to those columns (a token's
    ``last_used_at`` is bookkeeping, not security); empty means any column.
    """
    columns = list(update_columns)
    update = "UPDATE OF " + ", ".join(columns) if columns else "UPDATE"
    if op.get_bind().dialect.name == "postgresql":
        # Statement-level: one bump per statement, however many rows it touches.
        op.execute(
            f"CREATE TRIGGER {trigger_name(table, 'change')} "
            f"AFTER INSERT OR {update} OR DELETE ON {table} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {FUNCTION}()"
        )
        op.execute(
            f"CREATE TRIGGER {trigger_name(table, 'truncate')} AFTER TRUNCATE ON "
            f"{table} FOR EACH STATEMENT EXECUTE FUNCTION {FUNCTION}()"
        )
        return
    for event, clause in (("insert", "INSERT"), ("update", update), ("delete", "DELETE")):
        op.execute(
            f"CREATE TRIGGER {trigger_name(table, event)} AFTER {clause} ON {table} "
            f"BEGIN {BUMP}; END"
        )


def drop_bump(op: Any, table: str) -> None:
    if op.get_bind().dialect.name == "postgresql":
        for event in ("change", "truncate"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger_name(table, event)} ON {table}")
        return
    for event in ("insert", "update", "delete"):
        op.execute(f"DROP TRIGGER IF EXISTS {trigger_name(table, event)}")


def trigger_names(connection: Any) -> set[str]:
    if connection.dialect.name == "postgresql":
        query = "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal"
    else:
        query = "SELECT name FROM sqlite_master WHERE type = 'trigger'"
    return {row[0] for row in connection.execute(text(query))}


def missing_triggers(registry: Any, connection: Any) -> list[str]:
    """Declared security tables that no trigger bumps the version for."""
    present = trigger_names(connection)
    prefix = "bump_security_version_"
    return sorted(
        table
        for table in registry.get(TABLES_KEY, {})
        if not any(name.startswith(f"{prefix}{table}_") for name in present)
    )


def current_version(connection: Any) -> int:
    return int(connection.execute(VERSION_QUERY).scalar_one())


def declare_security_table(config: Any, table: str) -> None:
    """Directive ``config.declare_security_table(name)``.

    Names a table whose changes must bump the security version (its
    migration calls :func:`bump_on_change`).  Declaring one twice conflicts.
    """
    register_once(config, "security table", table, table, TABLES_KEY)


def includeme(config: Any) -> None:
    config.registry.setdefault(TABLES_KEY, {})
    config.add_directive("declare_security_table", declare_security_table)
    config.declare_security_table("acl_resources")
    config.declare_security_table("acl_entries")
    config.declare_security_table("acl_roles")
