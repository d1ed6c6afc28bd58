"""A request whose commit fails leaves nothing behind for the next request.

Every request on a thread shares that thread's explicit transaction manager
(see :mod:`plinth.db`).  pyramid_tm answers a failed commit with the exception
view but does not abort the failed transaction, so without care the next
request on the same thread would find it and fail with AlreadyInTransaction
(seen as 500s after PostgreSQL went away in the middle of a commit).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import (
    Column,
    Integer,
    MetaData,
    String,
    Table,
    delete,
    func,
    insert,
    select,
    update,
)
from transaction.interfaces import IDataManager
from webtest import TestApp
from zope.interface import implementer

from plinth.interfaces import IReadEngine
from plinth.services import get_service


@implementer(IDataManager)
class FailsToCommit:
    """A resource whose vote fails, as a database that went away does."""

    transaction_manager = None

    def abort(self, txn: Any) -> None:
        pass

    def tpc_begin(self, txn: Any) -> None:
        pass

    def commit(self, txn: Any) -> None:
        pass

    def tpc_vote(self, txn: Any) -> None:
        raise ConnectionError("the database went away while committing")

    def tpc_finish(self, txn: Any) -> None:
        pass

    def tpc_abort(self, txn: Any) -> None:
        pass

    def sortKey(self) -> str:  # noqa: N802 - the transaction package names it so
        return "fails-to-commit"


def test_a_failed_commit_does_not_poison_the_next_request(tmp_path: Path) -> None:
    from plinth import make_configurator, schema

    config = make_configurator(
        {"sqlalchemy.url": f"sqlite:///{tmp_path / 'tx.sqlite'}", "plinth.plugins": ""}
    )

    def failing(request: Any) -> dict[str, str]:
        request.tm.get().join(FailsToCommit())
        return {"written": "not really"}

    config.add_route("failing", "/failing")
    config.add_view(failing, route_name="failing", renderer="json", public=True)
    app = config.make_wsgi_app()
    schema.upgrade(app.registry, get_service(app.registry, IReadEngine))
    testapp = TestApp(app)

    failed = testapp.get("/failing", status=500).json
    assert failed["error"] == "internal_error"
    # WebTest runs every request on this thread, as Waitress reuses its threads.
    for _ in range(3):
        assert testapp.get("/health", status=200).json == {"status": "ok"}
        assert testapp.get("/failing", status=500).json["error"] == "internal_error"


NOTES = Table(
    "test_notes",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("text", String(20)),
)


def app_with_notes(tmp_path: Path, views: dict[str, tuple[Any, str]]) -> TestApp:
    """An app of the core alone with a table ``test_notes`` and ``views``
    (path: (view, request method)), public and rendered as JSON."""
    from plinth import make_configurator, schema

    config = make_configurator(
        {"sqlalchemy.url": f"sqlite:///{tmp_path / 'notes.sqlite'}", "plinth.plugins": ""}
    )
    for path, (view, method) in views.items():
        config.add_route(path, path)
        config.add_view(view, route_name=path, renderer="json", public=True, request_method=method)
    app = config.make_wsgi_app()
    engine = get_service(app.registry, IReadEngine)
    schema.upgrade(app.registry, engine)
    NOTES.create(engine)
    return TestApp(app)


def read_notes(request: Any) -> dict[str, Any]:
    texts = request.db.execute(select(NOTES.c.text)).scalars().all()
    return {"texts": texts, "count": request.db.scalar(select(func.count()).select_from(NOTES))}


def test_core_statements_through_request_db_commit_as_orm_changes_do(tmp_path: Path) -> None:
    """An INSERT, UPDATE or DELETE built on a Table (no ORM object) and run by
    ``request.db.execute`` is part of the request's commit, and of its
    rollback when the request fails, exactly as an ORM change is."""
    from plinth.errors import api_error

    def write(request: Any) -> dict[str, str]:
        kind = request.matchdict["kind"]
        if kind == "insert":
            request.db.execute(insert(NOTES).values(text="one"))
        elif kind == "update":
            request.db.execute(update(NOTES).values(text="two"))
        else:
            request.db.execute(delete(NOTES))
        if request.params.get("fail"):
            raise api_error(409, "conflict", "refused after writing")
        return {"done": kind}

    testapp = app_with_notes(
        tmp_path, {"/notes/{kind}": (write, "POST"), "/notes": (read_notes, "GET")}
    )
    testapp.post("/notes/insert", status=200)
    assert testapp.get("/notes").json == {"texts": ["one"], "count": 1}
    testapp.post("/notes/update", status=200)
    assert testapp.get("/notes").json == {"texts": ["two"], "count": 1}
    testapp.post("/notes/insert?fail=1", status=409)
    testapp.post("/notes/update?fail=1", status=409)
    testapp.post("/notes/delete?fail=1", status=409)
    assert testapp.get("/notes").json == {"texts": ["two"], "count": 1}
    testapp.post("/notes/delete", status=200)
    assert testapp.get("/notes").json == {"texts": [], "count": 0}


def test_a_request_that_cannot_write_is_refused_a_write(tmp_path: Path) -> None:
    """GET, HEAD and OPTIONS run in autocommit, outside the request's
    transaction: a write there would commit at once, alone, whatever the
    response.  It is refused (a 500, since it is a bug in the view) and
    nothing is written."""

    def write_on_get(request: Any) -> dict[str, str]:
        request.db.execute(insert(NOTES).values(text="sneaky"))
        return {"written": "yes"}

    testapp = app_with_notes(
        tmp_path, {"/sneaky": (write_on_get, "GET"), "/notes": (read_notes, "GET")}
    )
    assert testapp.get("/sneaky", status=500).json["error"] == "internal_error"
    assert testapp.get("/notes").json == {"texts": [], "count": 0}
