"""The HTTP surface: JSON errors, headers, request ids, health, docs, OpenAPI."""

from __future__ import annotations

from typing import Any

import pytest

from plinth.interfaces import IReadEngine
from plinth.services import get_service

ERROR_KEYS = {"status", "error", "message", "details"}


def assert_error(response: Any, status: int, error: str | None = None) -> dict[str, Any]:
    body = response.json
    assert response.status_int == status
    assert response.content_type == "application/json"
    assert set(body) == ERROR_KEYS
    assert body["status"] == status
    if error is not None:
        assert body["error"] == error
    return body


def test_health_ready_home(testapp: Any, as_principal: Any) -> None:
    assert testapp.get("/health").json == {"status": "ok"}
    # minimal for anonymous callers: no checks, no versions, no disabled plugins
    assert testapp.get("/ready").json == {"status": "ready"}
    home = testapp.get("/").json
    assert set(home) == {"name", "plugins", "principals"}
    assert {p["name"] for p in home["plugins"]} >= {"auth", "stock"}
    assert all(set(p) == {"name"} for p in home["plugins"])
    assert home["principals"] == ["system.Everyone"]
    # details for superusers
    admin = as_principal("user:root", "group:admins")
    ready = admin.get("/ready").json
    assert ready["status"] == "ready" and ready["checks"]["migrations"]["pending"] == []
    home = admin.get("/").json
    assert home["version"] and "disabled_plugins" in home
    assert all(p["version"] for p in home["plugins"])


def test_home_and_ready_details_need_more_than_a_login(as_principal: Any) -> None:
    clerk = as_principal("user:cy", "group:clerks")
    assert set(clerk.get("/").json) == {"name", "plugins", "principals"}
    assert clerk.get("/ready").json == {"status": "ready"}
    clerk.get("/metrics", status=403)


def test_home_shows_callers_principals(as_principal: Any) -> None:
    app = as_principal("user:zoe", "group:pickers")
    principals = app.get("/").json["principals"]
    assert {"system.Authenticated", "user:zoe", "group:pickers"} <= set(principals)


def test_unknown_paths(testapp: Any, as_principal: Any) -> None:
    assert_error(testapp.get("/no/such/thing", status=401), 401, "unauthorized")
    app = as_principal("user:zoe")
    assert_error(app.get("/no/such/thing", status=404), 404, "not_found")


def test_method_not_allowed_is_json(as_principal: Any) -> None:
    app = as_principal("user:root", "group:admins")
    assert_error(app.delete("/health", status=405), 405, "method_not_allowed")
    assert_error(app.delete("/stock/A-1", status=405), 405, "method_not_allowed")


def test_forbidden_is_json(as_principal: Any) -> None:
    app = as_principal("user:zoe")
    assert_error(app.get("/@@acl", status=403), 403, "forbidden")


def test_last_resort_500_has_request_id_and_no_traceback(build_app: Any) -> None:
    from plinth.security import Identity
    from plinth.testing import IDENTITY_KEY, use_testing_identity_provider

    app = build_app("auth example")
    use_testing_identity_provider(app.app.registry)
    identity = Identity("user:zoe", frozenset({"user:zoe"}))
    response = app.get(
        "/hello/boom",
        headers={"X-Request-ID": "trace-me-42"},
        extra_environ={IDENTITY_KEY: identity},
        status=500,
    )
    body = assert_error(response, 500, "internal_error")
    assert body["details"]["request_id"] == "trace-me-42"
    assert "Traceback" not in response.text and "secret" not in response.text


def test_request_id_is_honoured_or_generated(testapp: Any) -> None:
    assert (
        testapp.get("/health", headers={"X-Request-ID": "abc-123"}).headers["X-Request-ID"]
        == "abc-123"
    )
    generated = testapp.get("/health").headers["X-Request-ID"]
    assert len(generated) == 32
    # a hostile id is replaced, not echoed
    bad = testapp.get("/health", headers={"X-Request-ID": "x" * 500}).headers["X-Request-ID"]
    assert bad != "x" * 500


@pytest.mark.parametrize("path", ["/health", "/openapi.json", "/no/such", "/docs"])
def test_security_headers_on_every_response(testapp: Any, path: str) -> None:
    response = testapp.get(path, status="*")
    for header in (
        "X-Content-Type-Options",
        "X-Frame-Options",
        "Referrer-Policy",
        "Content-Security-Policy",
    ):
        assert header in response.headers, header
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_body_too_large(testapp: Any, plinth_registry: Any) -> None:
    limit = plinth_registry.settings["plinth.max_body_size"]
    response = testapp.post(
        "/auth/tokens", "x" * (limit + 1), content_type="application/json", status=413
    )
    assert_error(response, 413, "payload_too_large")


def test_wrong_content_type(testapp: Any) -> None:
    assert_error(testapp.post("/auth/tokens", "a=b", status=415), 415, "unsupported_media_type")


def test_openapi_document(testapp: Any) -> None:
    document = testapp.get("/openapi.json").json
    assert document["openapi"].startswith("3.")
    paths = document["paths"]
    for path in (
        "/health",
        "/auth/tokens",
        "/stock/{sku}",
        "/locations/{code}/{sku}/movements",
        "/{resource}/@@acl",
    ):
        assert path in paths
    assert paths["/auth/tokens"]["post"]["security"] == []
    assert (
        document["components"]["schemas"]["Error"]["required"] == sorted(ERROR_KEYS)
        or set(document["components"]["schemas"]["Error"]["required"]) == ERROR_KEYS
    )


def test_docs_page_is_served_locally(testapp: Any) -> None:
    page = testapp.get("/docs")
    assert page.content_type == "text/html"
    assert "http://" not in page.text and "https://" not in page.text
    testapp.get("/docs/swagger-ui/swagger-ui-bundle.js", status=200)
    testapp.get("/docs/static/docs.js", status=200)


def test_metrics_need_the_monitoring_permission(testapp: Any, as_principal: Any) -> None:
    testapp.get("/health")
    assert_error(testapp.get("/metrics", status=401), 401, "unauthorized")
    scraper = as_principal("user:prometheus")
    assert_error(scraper.get("/metrics", status=403), 403, "forbidden")
    admin = as_principal("user:root", "group:admins")
    assert "plinth_http_requests_total" in admin.get("/metrics").text
    # an operator grants it to a scraper on the root
    admin.put_json(
        "/@@acl",
        {
            "entries": [
                {"action": "Allow", "principal": "user:prometheus", "permission": "plinth.metrics"}
            ]
        },
    )
    assert "plinth_http_requests_total" in scraper.get("/metrics").text
    assert scraper.get("/ready").json["checks"]["database"] == {"ok": True}


def test_cors_only_for_configured_origins(build_app: Any) -> None:
    app = build_app("auth", **{"plinth.cors_origins": "https://shop.example"})
    allowed = app.get("/health", headers={"Origin": "https://shop.example"})
    assert allowed.headers["Access-Control-Allow-Origin"] == "https://shop.example"
    other = app.get("/health", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in other.headers
    preflight = app.options(
        "/auth/tokens",
        headers={"Origin": "https://shop.example", "Access-Control-Request-Method": "POST"},
    )
    assert preflight.status_int == 204


def test_ready_names_plugin_with_pending_migrations(build_app: Any, sign_in: Any) -> None:
    from plinth import schema

    app = build_app("auth", migrate=True)
    headers = sign_in(app, "root", "admins")
    app2 = build_app("auth stock", migrate=False)
    # anonymous callers learn that it is not ready, not why
    anonymous = assert_error(app2.get("/ready", status=503), 503, "not_ready")
    assert anonymous["details"] == {} and "stock" not in anonymous["message"]
    response = app2.get("/ready", headers=headers, status=503)
    body = assert_error(response, 503, "not_ready")
    assert body["details"]["pending"] == ["stock"]
    assert "stock" in body["message"]
    schema.upgrade(app2.app.registry, get_service(app2.app.registry, IReadEngine))
    app2.get("/ready", status=200)
    assert app.get("/ready").status_int == 200


@pytest.mark.parametrize(
    ("path", "error"),
    [
        ("/stock?q=%ff", "invalid_url"),
        ("/stock/%ff", "invalid_url"),
        ("/stock?cursor=%ff%fe", "invalid_url"),
        ("/stock/A%00B", "invalid_url"),
        ("/stock?q=%00", "invalid_request"),
        ("/auth/whoami?x=a%00", "invalid_request"),
    ],
)
def test_unusable_urls_are_400(as_principal: Any, testapp: Any, path: str, error: str) -> None:
    for app in (testapp, as_principal("user:root", "group:admins")):
        assert_error(app.get(path, status=400), 400, error)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"[" * 100_000, "nested too deeply"),
        (b'{"username": "a\\ud800", "password": "x"}', "unpaired surrogate"),
        (b'{"username": "a\\u0000", "password": "x"}', "NUL"),
        (b"\xff\xfe", "not valid JSON"),
        (b"", "not valid JSON"),
    ],
)
def test_unstorable_json_is_400(testapp: Any, body: bytes, message: str) -> None:
    response = testapp.post("/auth/tokens", body, content_type="application/json", status=400)
    assert message in assert_error(response, 400, "invalid_json")["message"]


def test_view_names_take_no_subpath(as_principal: Any) -> None:
    app = as_principal("user:root", "group:admins")
    app.get("/stock/@@acl", status=200)
    assert_error(app.get("/stock/@@acl/extra", status=404), 404, "not_found")


@pytest.mark.parametrize(
    "path",
    [
        "/@@audit?cursor=WyJ4Il0",  # ["x"] where an id belongs
        "/auth/users?cursor=WzFd",  # [1] where a name belongs
        "/stock?cursor=WzEsMl0",  # [1, 2]
        "/locations/WH1/A-1/movements?cursor=eyJhIjoxfQ",  # {"a": 1}
    ],
)
def test_forged_cursors_are_400(as_principal: Any, path: str) -> None:
    app = as_principal("user:root", "group:admins")
    assert_error(app.get(path, status=400), 400, "invalid_cursor")
