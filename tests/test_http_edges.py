"""HTTP edges: undecodable paths, Allow on 405, Location, the access log's user."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from plinth.interfaces import IReadEngine
from plinth.services import get_service
from plinth.settings import SettingError

ERROR_KEYS = {"status", "error", "message", "details"}
METHODS = ("GET", "HEAD", "POST", "PUT", "DELETE", "PATCH")


@pytest.fixture
def access_log(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """The access log lines, captured as production logs them (INFO)."""
    caplog.set_level(logging.INFO, logger="plinth.access")
    return caplog


def access_lines(caplog: pytest.LogCaptureFixture) -> list[Any]:
    return [r for r in caplog.records if r.name == "plinth.access"]


@pytest.mark.parametrize(
    "path", ["/%ff", "/stock/%ff", "/locations/WH1/%C3%28", "/?q=%ff", "/stock/A-1?x=%fe"]
)
def test_an_undecodable_url_is_a_json_400_with_access_logging(
    testapp: Any, access_log: pytest.LogCaptureFixture, path: str
) -> None:
    response = testapp.get(path, status=400)
    assert response.content_type == "application/json"
    assert set(response.json) == ERROR_KEYS
    assert response.json["error"] == "invalid_url"
    [line] = access_lines(access_log)
    assert line.status == 400  # type: ignore[attr-defined]


def test_the_access_log_names_the_authenticated_user(
    testapp: Any, admin: dict[str, str], access_log: pytest.LogCaptureFixture
) -> None:
    access_log.clear()
    testapp.get("/auth/whoami", headers=admin)
    testapp.get("/health")
    testapp.get("/stock/NOPE", headers=admin, status=404)
    testapp.get("/stock/NOPE", headers={"Authorization": "Bearer nonsense"}, status=401)
    users = [(line.path, line.user) for line in access_lines(access_log)]  # type: ignore[attr-defined]
    assert users == [
        ("/auth/whoami", "user:admin"),
        ("/health", None),
        ("/stock/NOPE", "user:admin"),
        ("/stock/NOPE", None),
    ]


# Allow on 405 ----------------------------------------------------------------

ALLOWED = {
    "/health": {"GET", "HEAD"},
    "/openapi.json": {"GET", "HEAD"},
    "/stock/A-1": {"GET", "HEAD", "PUT"},
    "/locations/WH1": {"GET", "HEAD", "PUT"},
    "/locations/WH1/A-1/movements": {"GET", "HEAD", "POST"},
    "/locations/WH1/@@acl": {"GET", "HEAD", "PUT"},
    "/auth/tokens": {"GET", "HEAD", "POST"},
    "/auth/users/someone": {"GET", "HEAD", "PUT", "DELETE"},
}


@pytest.mark.parametrize("path", sorted(ALLOWED))
def test_405_names_the_methods_the_resource_supports(as_principal: Any, path: str) -> None:
    app = as_principal("user:root", "group:admins")
    refused = []
    for method in METHODS:
        response = app.request(path, method=method, expect_errors=True)
        if response.status_int != 405:
            continue
        refused.append(method)
        assert response.json["error"] == "method_not_allowed"
        allow = {m.strip() for m in response.headers["Allow"].split(",")}
        assert allow == ALLOWED[path], (method, response.headers["Allow"])
    assert refused and set(refused) == set(METHODS) - ALLOWED[path]


# Location ----------------------------------------------------------------------

FORGED = {"Host": "evil.example", "X-Forwarded-Host": "evil.example"}


def test_location_never_echoes_the_host_header(testapp: Any, admin: dict[str, str]) -> None:
    headers = {**admin, **FORGED}
    created = testapp.put_json("/locations/WH9", {"name": "Nine"}, headers=headers, status=201)
    assert created.headers["Location"] == "/locations/WH9"
    created = testapp.put_json("/stock/Z-9", {"name": "Zed"}, headers=headers, status=201)
    assert created.headers["Location"] == "/stock/Z-9"
    testapp.post_json(
        "/locations/WH9/Z-9/movements",
        {"kind": "receipt", "quantity": 3},
        headers=headers,
        status=201,
    )
    reserved = testapp.post_json(
        "/locations/WH9/Z-9/reservations",
        {"quantity": 1, "reference": "SO-1"},
        headers=headers,
        status=201,
    )
    assert reserved.headers["Location"] == f"/reservations/{reserved.json['id']}"
    testapp.get(reserved.headers["Location"], headers=admin, status=200)
    from plinth_auth.testing import PASSWORD

    token = testapp.post_json(
        "/auth/tokens", {"username": "admin", "password": PASSWORD}, headers=FORGED, status=201
    )
    assert token.headers["Location"] == f"/auth/tokens/{token.json['id']}"


def test_location_uses_the_configured_public_url(build_app: Any, plinth_settings: Any) -> None:
    from plinth_auth import services
    from plinth_auth.testing import PASSWORD

    app = build_app("auth stock", **{"plinth.public_url": "https://plinth.example.org/api/"})
    registry = app.app.registry
    with Session(bind=get_service(registry, IReadEngine)) as db, db.begin():
        services.save_user(
            db, registry, "admin", services.Actor("test"), password=PASSWORD, groups=["admins"]
        )
    token = app.post_json(
        "/auth/tokens", {"username": "admin", "password": PASSWORD}, headers=FORGED, status=201
    )
    assert (
        token.headers["Location"]
        == f"https://plinth.example.org/api/auth/tokens/{token.json['id']}"
    )
    headers = {"Authorization": f"Bearer {token.json['token']}", **FORGED}
    created = app.put_json("/locations/WH9", {"name": "Nine"}, headers=headers, status=201)
    assert created.headers["Location"] == "https://plinth.example.org/api/locations/WH9"


@pytest.mark.parametrize(
    "value",
    [
        "plinth.example.org",
        "ftp://plinth.example.org",
        "https://",
        "https://plinth.example.org/?a=1",
        "https://plinth.example.org/#top",
        "https://a b.org",
    ],
)
def test_a_bad_public_url_stops_start_up_naming_the_setting(tmp_path: Path, value: str) -> None:
    from plinth import make_app

    with pytest.raises(SettingError, match=r"plinth\.public_url"):
        make_app(
            {"sqlalchemy.url": f"sqlite:///{tmp_path / 'x.sqlite'}", "plinth.public_url": value}
        )
