"""Every writer of security data queues on the security version row first.

The triggers lock that row at a transaction's first security write and hold
it to the end.  A writer that locked another row first (a user, an ACL) and
then wrote would wait for the version while holding that row, while one that
had already written (on PostgreSQL even an ``INSERT ... ON CONFLICT DO
NOTHING`` that inserted nothing fires the statement trigger) waited for the
row while holding the version: a deadlock, retried, and after three attempts a
503.  Concurrent ``PUT /auth/users/newbie`` ran into it.

The rule, tested for each writer: while another transaction holds the version
row, the writer waits for it holding no row or write lock of its own.  Only
PostgreSQL takes row locks; SQLite's single write lock already serialises
writers (and the two-process races cover both).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from pyramid.request import Request
from sqlalchemy import text
from sqlalchemy.orm import Session

from plinth import acladmin, roles
from plinth.interfaces import IWriteEngine
from plinth.resources import Root
from plinth.services import get_service
from plinth_auth import services as auth

Writer = Callable[[Session, Any], object]


def save_existing_user(db: Session, registry: Any) -> object:
    return auth.save_user(
        db,
        registry,
        "kept",
        auth.Actor("ops"),
        password="another-long-passphrase",
        groups=["crew", "night"],
    )


def save_new_user(db: Session, registry: Any) -> object:
    return auth.save_user(
        db,
        registry,
        "fresh",
        auth.Actor("ops"),
        password="a-long-new-passphrase",
        groups=["crew", "brand-new"],
    )


def delete_user(db: Session, registry: Any) -> object:
    user = auth.user_by_name(db, "kept")
    assert user is not None
    return auth.delete_user(db, registry, user, auth.Actor("ops"))


def replace_acl(db: Session, registry: Any) -> object:
    request = Request.blank("/")
    request.registry = registry
    request.__dict__["db"] = db
    resource = Root(request)["locations"]
    return acladmin.replace_acl(
        db,
        registry,
        resource,
        [{"action": "Allow", "principal": "user:kept", "permission": "stock.view"}],
        None,
        "ops",
    )


def save_role(db: Session, registry: Any) -> object:
    return roles.save_role(db, registry, "counter", ["stock.view"], "Counter", "ops")


def delete_role(db: Session, registry: Any) -> object:
    return roles.delete_role(db, registry, "spare", "ops")


WRITERS: dict[str, Writer] = {
    "save an existing user": save_existing_user,
    "create a user": save_new_user,
    "delete a user": delete_user,
    "replace an ACL": replace_acl,
    "save a role": save_role,
    "delete a role": delete_role,
}


@pytest.fixture
def seeded(plinth_registry: Any, clean_database: None) -> Any:
    engine = get_service(plinth_registry, IWriteEngine)
    with Session(engine) as db:
        auth.save_user(
            db,
            plinth_registry,
            "kept",
            auth.Actor("ops"),
            password="a-long-first-passphrase",
            groups=["crew"],
        )
        auth.save_user(
            db,
            plinth_registry,
            "boss",
            auth.Actor("ops"),
            password="a-chief-passphrase",
            groups=["admins"],
        )
        roles.save_role(db, plinth_registry, "spare", ["stock.view"], "Spare", "ops")
        db.commit()
    return engine


def wait_for_lock_wait(engine: Any, pid: int) -> None:
    with engine.connect() as watcher:
        for _ in range(200):
            waiting = watcher.execute(
                text("SELECT wait_event_type FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid}
            ).scalar()
            if waiting == "Lock":
                return
            time.sleep(0.05)
    raise AssertionError("the writer never waited for the version row held elsewhere")


def own_write_locks(engine: Any, pid: int) -> list[tuple[str, str]]:
    """Row-share and write locks the backend ``pid`` holds, but on the version row."""
    with engine.connect() as watcher:
        rows = watcher.execute(
            text(
                "SELECT c.relname, l.mode FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
                "WHERE l.pid = :pid AND l.granted AND c.relkind = 'r' "
                "AND l.mode IN ('RowShareLock', 'RowExclusiveLock') "
                "AND c.relname <> 'security_version'"
            ),
            {"pid": pid},
        ).all()
    return [tuple(r) for r in rows]  # type: ignore[misc]


@pytest.mark.parametrize("writer", list(WRITERS), ids=list(WRITERS))
def test_a_security_writer_takes_the_version_row_before_any_other_lock(
    seeded: Any, plinth_registry: Any, writer: str
) -> None:
    engine = seeded
    if engine.dialect.name != "postgresql":
        pytest.skip("row locks are PostgreSQL's; SQLite has one write lock")
    outcome: dict[str, Any] = {}
    with Session(engine) as holder, Session(engine) as db:
        holder.execute(text("SELECT version FROM security_version FOR UPDATE"))
        pid = db.execute(text("SELECT pg_backend_pid()")).scalar_one()

        def write() -> None:
            try:
                WRITERS[writer](db, plinth_registry)
                db.commit()
                outcome["done"] = True
            except Exception as error:  # noqa: BLE001 - reported by the main thread
                outcome["error"] = error
                db.rollback()

        thread = threading.Thread(target=write)
        thread.start()
        try:
            wait_for_lock_wait(engine, pid)
            held = own_write_locks(engine, pid)
        finally:
            holder.rollback()
            thread.join(timeout=30)
    assert held == [], f"{writer} waited for the version row holding {held}"
    assert outcome == {"done": True}, outcome
