"""Every line logged during a request names the request and the user.

In process, the lines of a plugin-like module, of an error view and of
SQLAlchemy; in a fresh process configured by ``development.ini`` or
``production.ini`` exactly as ``pserve`` configures it, the lines as written.
"""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from webtest import TestApp

from plinth import make_configurator

ROOT = Path(__file__).resolve().parent.parent


def log_a_warning(request: Any) -> dict[str, Any]:
    # A logger of another module, as a plugin's would be.
    logging.getLogger("tests.elsewhere").warning("stock looks low")
    return {}


def fail(request: Any) -> dict[str, Any]:
    raise RuntimeError("an unexpected failure")


@pytest.fixture
def logging_app(plinth_app: Any, plinth_settings: dict[str, Any], clean_database: None) -> TestApp:
    """The application with two more views: one logs a warning, one fails."""
    config = make_configurator(dict(plinth_settings))
    config.add_route("test.warn", "/test-warn")
    config.add_view(
        log_a_warning, route_name="test.warn", renderer="json", permission="plinth.metrics"
    )
    config.add_route("test.fail", "/test-fail")
    config.add_view(fail, route_name="test.fail", renderer="json", permission="plinth.metrics")
    return TestApp(config.make_wsgi_app(), extra_environ={"HTTP_HOST": "localhost"})


def test_a_warning_from_another_module_names_the_request_and_the_user(
    logging_app: TestApp, admin: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    response = logging_app.get("/test-warn", headers={**admin, "X-Request-ID": "warn-1"})
    [warning] = [r for r in caplog.records if r.name == "tests.elsewhere"]
    assert (warning.request_id, warning.user) == ("warn-1", "user:admin")  # type: ignore[attr-defined]
    [access] = [r for r in caplog.records if r.name == "plinth.access"]
    assert (access.request_id, access.user) == ("warn-1", "user:admin")  # type: ignore[attr-defined]
    assert response.headers["X-Request-ID"] == "warn-1"


def test_the_error_view_line_names_the_request_and_the_user(
    logging_app: TestApp, admin: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    logging_app.get("/test-fail", headers={**admin, "X-Request-ID": "fail-1"}, status=500)
    [error] = [r for r in caplog.records if r.name == "plinth.errors"]
    assert error.exc_info and error.levelno == logging.ERROR
    assert (error.request_id, error.user) == ("fail-1", "user:admin")  # type: ignore[attr-defined]


def test_sqlalchemy_lines_name_the_request(
    testapp: Any, admin: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="sqlalchemy.engine")
    testapp.get("/auth/whoami", headers={**admin, "X-Request-ID": "sql-1"})
    statements = [r for r in caplog.records if r.name.startswith("sqlalchemy.engine")]
    assert statements
    assert {r.request_id for r in statements} == {"sql-1"}  # type: ignore[attr-defined]


def test_a_line_outside_a_request_has_no_request(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="tests.elsewhere")
    logging.getLogger("tests.elsewhere").info("between requests")
    [record] = caplog.records
    assert (record.request_id, record.user) == (None, None)  # type: ignore[attr-defined]


# The ini files' formats, in a process of their own ----------------------------

# Configures logging from the ini file as pserve does, then serves requests
# in process: one that logs a warning, one by an anonymous caller, one 404.
SCRIPT = """
import logging, sys
from pyramid.paster import get_appsettings, setup_logging
from webtest import TestApp
ini, token = sys.argv[1:]
setup_logging(ini)
from plinth import make_configurator
logging.getLogger("plinth.test").warning("before any request")
config = make_configurator(dict(get_appsettings(ini)))
def warn(request):
    logging.getLogger("tests.elsewhere").warning("stock looks low")
    return {}
config.add_route("test.warn", "/test-warn")
config.add_view(warn, route_name="test.warn", renderer="json", permission="plinth.metrics")
app = TestApp(config.make_wsgi_app(), extra_environ={"HTTP_HOST": "localhost"})
admin = {"Authorization": "Bearer " + token}
app.get("/test-warn", headers={**admin, "X-Request-ID": "ini-1"})
app.get("/health", headers={"X-Request-ID": "ini-2"})
app.get("/stock/NOPE", headers={**admin, "X-Request-ID": "ini-3"}, status=404)
"""


def served_with(ini: str, database_url: str, admin: dict[str, str]) -> list[str]:
    """What a process configured by ``ini`` writes to stderr for SCRIPT's requests."""
    token = admin["Authorization"].removeprefix("Bearer ")
    env = {**os.environ, "PLINTH_DATABASE_URL": database_url}
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(ROOT / ini), token],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stderr.splitlines()


@pytest.mark.slow
def test_development_logs_one_readable_line_per_request(
    testapp: Any, admin: dict[str, str], plinth_settings: dict[str, Any]
) -> None:
    lines = served_with("development.ini", plinth_settings["sqlalchemy.url"], admin)
    clock = r"\d\d:\d\d:\d\d"
    expected = [
        rf"{clock} WARNING \[plinth\.test\] before any request",
        rf"{clock} WARNING \[tests\.elsewhere\] stock looks low  req=ini-1 user:admin",
        rf"{clock} GET /test-warn 200 \d+\.\d ms user:admin  req=ini-1",
        rf"{clock} GET /health 200 \d+\.\d ms anonymous  req=ini-2",
        rf"{clock} GET /stock/NOPE 404 \d+\.\d ms user:admin  req=ini-3",
    ]
    assert len(lines) == len(expected), lines
    for pattern, line in zip(expected, lines, strict=True):
        assert re.fullmatch(pattern, line), (pattern, line)


@pytest.mark.slow
def test_production_logs_json_lines_with_the_request(
    testapp: Any, admin: dict[str, str], plinth_settings: dict[str, Any]
) -> None:
    lines = [
        json.loads(line)
        for line in served_with("production.ini", plinth_settings["sqlalchemy.url"], admin)
    ]
    before, warning, *access = lines
    assert before["message"] == "before any request"
    assert "request_id" not in before and "user" not in before
    assert (warning["logger"], warning["level"], warning["message"]) == (
        "tests.elsewhere",
        "WARNING",
        "stock looks low",
    )
    assert (warning["request_id"], warning["user"]) == ("ini-1", "user:admin")
    assert [
        (
            line["logger"],
            line["request_id"],
            line["user"],
            line["method"],
            line["path"],
            line["status"],
        )
        for line in access
    ] == [
        ("plinth.access", "ini-1", "user:admin", "GET", "/test-warn", 200),
        ("plinth.access", "ini-2", None, "GET", "/health", 200),
        ("plinth.access", "ini-3", "user:admin", "GET", "/stock/NOPE", 404),
    ]
    assert access[0]["route"] == "test.warn"
    assert all(isinstance(line["duration_ms"], float) for line in access)
    assert all(isinstance(line["statements"], int) for line in access)
