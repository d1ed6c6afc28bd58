"""A smoke test of the production shape, through nginx (``scripts/stack``).

Runs only with ``PLINTH_TEST_BASE_URL`` set to the stack's nginx and
``PLINTH_TEST_DATABASE_URL`` to its database (``.ci/run`` does both).
"""

from __future__ import annotations

import http.client
import json
import os
import re
import uuid
from typing import Any
from urllib.parse import urlsplit

import pytest

BASE_URL = os.environ.get("PLINTH_TEST_BASE_URL")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not BASE_URL, reason="PLINTH_TEST_BASE_URL is not set"),
]


def call(
    method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
) -> tuple[int, Any, bytes]:
    target = urlsplit(BASE_URL or "")
    connection = http.client.HTTPConnection(target.hostname or "", target.port, timeout=30)
    try:
        data = json.dumps(body).encode() if body is not None else None
        connection.request(
            method, path, body=data, headers={"Content-Type": "application/json", **(headers or {})}
        )
        response = connection.getresponse()
        return response.status, response.headers, response.read()
    finally:
        connection.close()


def test_health_and_readiness_through_nginx() -> None:
    status, headers, body = call("GET", "/ready")
    assert status == 200, body
    assert json.loads(body)["status"] == "ready"
    assert headers["Server"].startswith("nginx")
    # nginx names every request; the application answers with that id
    assert re.fullmatch(r"[0-9a-f]{32}", headers["X-Request-ID"])


def test_a_stock_session_through_nginx(testapp: Any, make_user: Any) -> None:
    from plinth_auth.testing import PASSWORD

    make_user("admin", "admins")
    status, _, body = call("POST", "/auth/tokens", {"username": "admin", "password": PASSWORD})
    assert status == 201, body
    auth = {"Authorization": f"Bearer {json.loads(body)['token']}"}
    assert call("PUT", "/locations/WH1", {"name": "Main"}, auth)[0] == 201
    assert call("PUT", "/stock/A-1", {"name": "Anchor bolt"}, auth)[0] == 201
    for kind, quantity in (("receipt", 10), ("issue", 3)):
        status, _, body = call(
            "POST", "/locations/WH1/A-1/movements", {"kind": kind, "quantity": quantity}, auth
        )
        assert status == 201, body
    status, _, body = call("GET", "/stock/A-1", headers=auth)
    assert (status, json.loads(body)["stock"]) == (200, 7)
    # reports stream through the proxy unbuffered, whole
    status, headers, body = call("GET", "/reports/stock-on-hand?format=csv", headers=auth)
    assert status == 200 and headers["Content-Type"].startswith("text/csv")
    assert body.decode().splitlines()[1].startswith("A-1,")


def test_both_processes_share_login_limits() -> None:
    # nginx spreads these over both processes; only a shared (Redis) count
    # reaches the per-account limit of 10.
    account = f"nobody-{uuid.uuid4().hex[:8]}"
    for _ in range(10):
        status, _, body = call(
            "POST", "/auth/tokens", {"username": account, "password": "wrong-password"}
        )
        assert status == 401, body
    status, headers, body = call(
        "POST", "/auth/tokens", {"username": account, "password": "wrong-password"}
    )
    assert status == 429, body
    assert int(headers["Retry-After"]) > 0


def test_nginx_does_not_proxy_metrics() -> None:
    # Prometheus scrapes each process on its own port; through nginx the
    # metrics are not there, however the path is spelled.
    for path in ("/metrics", "/%6detrics", "//metrics", "/metrics?x=1"):
        status, headers, body = call("GET", path)
        assert status == 404, (path, body)
        assert json.loads(body)["error"] == "not_found"
        assert headers["Server"].startswith("nginx")
