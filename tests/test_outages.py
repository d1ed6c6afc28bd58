"""A database that cannot be reached: a JSON 503 for every kind of request, not a 500."""

from __future__ import annotations

import logging
import socket

import pytest
from webtest import TestApp

from plinth import make_app

# Well formed, so that only the database can tell whether it is valid.
BEARER = {"Authorization": "Bearer plinth_" + "x" * 43}


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # nothing listens there once closed


@pytest.fixture
def app_without_database() -> TestApp:
    url = f"postgresql+psycopg://postgres@127.0.0.1:{closed_port()}/plinth"
    return TestApp(
        make_app({"sqlalchemy.url": url, "plinth.plugins": "auth stock"}),
        extra_environ={"REMOTE_ADDR": "192.0.2.9"},
    )


@pytest.mark.parametrize(
    ("method", "path", "body", "headers"),
    [
        ("GET", "/stock/A-1", None, BEARER),
        ("POST", "/auth/tokens", {"username": "ann", "password": "ann-password-1"}, {}),
        ("POST", "/locations/WH1/A-1/movements", {"kind": "receipt", "quantity": 1}, BEARER),
    ],
)
def test_an_unreachable_database_is_a_json_503(
    app_without_database: TestApp,
    method: str,
    path: str,
    body: dict[str, str] | None,
    headers: dict[str, str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING):
        if body is None:
            response = app_without_database.request(
                path, method=method, headers=headers, status=503
            )
        else:
            response = app_without_database.post_json(path, body, headers=headers, status=503)
    assert response.json["error"] == "unavailable"
    assert response.json["status"] == 503
    assert set(response.json) == {"status", "error", "message", "details"}
    assert response.headers["Retry-After"] == "5"
    # a warning naming the cause, and no traceback
    records = [r for r in caplog.records if r.name == "plinth.outages"]
    assert records and "OperationalError" in records[0].getMessage()
    assert not [r for r in caplog.records if r.exc_info]


def test_health_needs_no_database_and_ready_says_no_more_than_not_ready(
    app_without_database: TestApp,
) -> None:
    assert app_without_database.get("/health", status=200).json["status"] == "ok"
    ready = app_without_database.get("/ready", status=503).json
    # Which check failed is for monitors, and whether the caller is one cannot
    # be decided without the database: the anonymous answer.
    assert ready["error"] == "not_ready"
    assert ready["details"] == {}


def test_pooled_connections_are_checked_before_use() -> None:
    # What lets a process recover from a database restart without a restart of its own.
    from plinth.db import make_engine

    engine = make_engine(f"postgresql+psycopg://postgres@127.0.0.1:{closed_port()}/plinth")
    assert engine.pool._pre_ping is True
