"""Login limits when their Redis goes away: the failure policy, never a 500.

Each test starts a private redis-server on a free port and stops it in the
middle of the test; the machine's own Redis is never touched.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Iterator
from typing import Any

import pytest
from prometheus_client import REGISTRY
from pyramid.exceptions import ConfigurationError
from sqlalchemy import func, select
from webtest import TestApp

from plinth.api import make_app
from plinth_auth.models import Token
from plinth_auth.testing import PASSWORD, PrivateRedis, free_port

METRIC = "plinth_auth_ratelimit_storage_errors_total"


@pytest.fixture
def redis_server() -> Iterator[PrivateRedis]:
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed (.ci/run installs it)")
    server = PrivateRedis(free_port())
    server.start()
    try:
        yield server
    finally:
        server.stop()


def app_with(plinth_settings: dict[str, Any], **overrides: str) -> TestApp:
    settings = {**plinth_settings, "plinth.plugins": "auth", **overrides}
    return TestApp(make_app(settings), extra_environ={"REMOTE_ADDR": "192.0.2.7"})


def errors_counted(policy: str) -> float:
    return REGISTRY.get_sample_value(METRIC, {"policy": policy}) or 0.0


def login(app: TestApp, password: str, status: int) -> Any:
    return app.post_json("/auth/tokens", {"username": "uma", "password": password}, status=status)


def test_redis_outage_fails_open_with_a_metric_and_a_warning(
    plinth_settings: dict[str, Any],
    testapp: Any,
    make_user: Any,
    redis_server: PrivateRedis,
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = app_with(
        plinth_settings, **{"auth.ratelimit_storage": redis_server.url, "auth.login_attempts": "3"}
    )
    make_user("uma")
    login(app, "bad-password", 401)
    login(app, PASSWORD, 201)

    redis_server.stop()
    before = errors_counted("open")
    with caplog.at_level(logging.WARNING, logger="plinth_auth.ratelimit"):
        login(app, PASSWORD, 201)
        # unlimited while the storage is down: more failures than the limit, no 429
        for _ in range(4):
            assert login(app, "bad-password", 401).json["error"] == "invalid_credentials"
    assert errors_counted("open") > before
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings and "not limited" in warnings[0].getMessage()

    # back again: the limits apply without a restart
    redis_server.start()
    for _ in range(3):
        login(app, "bad-password", 401)
    assert login(app, PASSWORD, 429).json["error"] == "rate_limited"


def test_redis_outage_fails_closed_with_a_json_503_when_configured(
    plinth_settings: dict[str, Any],
    testapp: Any,
    make_user: Any,
    redis_server: PrivateRedis,
    plinth_engine: Any,
) -> None:
    app = app_with(
        plinth_settings,
        **{"auth.ratelimit_storage": redis_server.url, "auth.ratelimit_failure": "closed"},
    )
    make_user("uma")
    token = login(app, PASSWORD, 201).json["token"]

    redis_server.stop()
    before = errors_counted("closed")
    for password in (PASSWORD, "bad-password"):
        response = login(app, password, 503)
        assert response.json == {
            "status": 503,
            "error": "unavailable",
            "message": "logins are unavailable for now: the rate-limit storage cannot be reached",
            "details": {},
        }
        assert response.headers["Retry-After"] == "5"
    assert errors_counted("closed") == before + 2
    with plinth_engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(Token)) == 1
    # tokens issued before the outage keep working
    app.get("/auth/whoami", headers={"Authorization": f"Bearer {token}"}, status=200)


def test_ratelimit_failure_setting_is_validated(plinth_settings: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError, match=r"auth\.ratelimit_failure"):
        make_app(
            {**plinth_settings, "plinth.plugins": "auth", "auth.ratelimit_failure": "sideways"}
        )
