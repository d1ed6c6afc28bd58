"""A request that loses a real PostgreSQL deadlock is retried and answers once.

The deadlock is a real one: the request's transaction and another connection
each lock one row and then wait for the other's.  PostgreSQL aborts the
request's transaction (it has waited longer); pyramid_retry
serves the request again, the client gets that answer, and the lost attempt
is neither an ERROR in the log nor a 500 in the metrics.  SQLite has no such
deadlocks: a request that may write takes the write lock up front.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import pytest
from sqlalchemy import text

from plinth.metrics import REQUESTS

ROWS = ("/deadlock-a", "/deadlock-b")


def lock(db: Any, path: str) -> None:
    db.execute(text("SELECT path FROM acl_resources WHERE path = :p FOR UPDATE"), {"p": path})


@pytest.fixture
def deadlock_app(plinth_app: Any, plinth_settings: dict[str, Any], plinth_engine: Any) -> Any:
    if plinth_engine.dialect.name != "postgresql":
        pytest.skip("deadlocks between requests need PostgreSQL")
    from webtest import TestApp

    from plinth import make_configurator

    attempts: list[int] = []
    other_done = threading.Event()

    def other_transaction(ready: threading.Event, request_pid: int) -> None:
        with plinth_engine.connect() as connection, connection.begin():
            lock(connection, ROWS[1])
            ready.set()
            # Once the request waits for ROWS[1], waiting for ROWS[0] closes
            # the cycle.  PostgreSQL checks for deadlocks deadlock_timeout
            # after a transaction starts waiting: the request, waiting
            # longer, is the one aborted.
            deadline = time.monotonic() + 10
            while (
                time.monotonic() < deadline
                and not connection.execute(
                    text("SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = :p"),
                    {"p": request_pid},
                ).scalar()
            ):
                time.sleep(0.01)
            time.sleep(0.2)
            lock(connection, ROWS[0])
        other_done.set()

    def deadlocking(request: Any) -> dict[str, Any]:
        attempts.append(request.environ["retry.attempt"])
        db = request.db
        if len(attempts) == 1:
            lock(db, ROWS[0])
            ready = threading.Event()
            pid = db.execute(text("SELECT pg_backend_pid()")).scalar_one()
            threading.Thread(target=other_transaction, args=(ready, pid), daemon=True).start()
            assert ready.wait(10)
            lock(db, ROWS[1])  # a deadlock: PostgreSQL aborts this transaction
        return {"attempts": attempts}

    config = make_configurator(dict(plinth_settings))
    config.add_route("test.deadlock", "/test-deadlock")
    config.add_view(
        deadlocking, route_name="test.deadlock", request_method="POST", renderer="json", public=True
    )
    app = config.make_wsgi_app()
    with plinth_engine.begin() as connection:
        for path in ROWS:
            connection.execute(
                text("INSERT INTO acl_resources (path, inherit, version) VALUES (:p, true, 0)"),
                {"p": path},
            )
    try:
        yield TestApp(app, extra_environ={"HTTP_HOST": "localhost"}), other_done
    finally:
        other_done.wait(15)
        with plinth_engine.begin() as connection:
            connection.execute(
                text("DELETE FROM acl_resources WHERE path IN (:a, :b)"),
                {"a": ROWS[0], "b": ROWS[1]},
            )


def test_a_deadlocked_request_is_retried_and_answers_once(
    deadlock_app: Any, caplog: pytest.LogCaptureFixture
) -> None:
    app, other_done = deadlock_app
    caplog.set_level(logging.INFO, logger="plinth")
    errors = REQUESTS.labels("test.deadlock", "POST", "5xx")
    errors_before = errors._value.get()
    response = app.post("/test-deadlock", status=200)
    assert response.json == {"attempts": [0, 1]}
    assert other_done.wait(15)  # the other transaction got its locks once this one aborted
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert [r.getMessage() for r in caplog.records if r.name == "plinth.errors"] == [
        f"retrying request {response.headers['X-Request-ID']} after OperationalError"
    ]
    assert errors._value.get() == errors_before
