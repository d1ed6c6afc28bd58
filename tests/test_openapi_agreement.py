"""The published document says what the server does (what schemathesis checks
live, in CI: .ci/schemathesis), here for the cases it found."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote


def operation(testapp: Any, path: str, method: str = "get") -> dict[str, Any]:
    return testapp.get("/openapi.json").json["paths"][path][method]


def parameter(op: dict[str, Any], name: str) -> dict[str, Any]:
    return next(p for p in op["parameters"] if p["name"] == name)


def test_grants_requires_a_principal_as_documented(testapp: Any, as_principal: Any) -> None:
    principal = parameter(operation(testapp, "/@@grants"), "principal")
    assert principal["required"] is True and principal["schema"]["minLength"] == 1
    boss = as_principal("user:boss", "group:admins")
    for query in ("", "?principal="):
        body = boss.get(f"/@@grants{query}", status=400).json
        assert body["details"]["errors"][0]["field"] == "principal"


def test_empty_report_filters_are_documented_as_absent(testapp: Any, as_principal: Any) -> None:
    sku = parameter(operation(testapp, "/reports/low-stock"), "sku")
    assert sku["allowEmptyValue"] is True and sku["schema"]["minLength"] == 1
    boss = as_principal("user:boss", "group:admins")
    assert boss.get("/reports/low-stock?sku=").json["parameters"]["sku"] is None
    fmt = parameter(operation(testapp, "/reports/low-stock"), "format")
    assert fmt["allowEmptyValue"] is True
    assert boss.get("/reports/low-stock?format=").content_type == "application/json"


def test_svg_is_documented_only_where_a_chart_is(testapp: Any, as_principal: Any) -> None:
    generic = parameter(operation(testapp, "/reports/{name}"), "format")
    assert "svg" not in generic["schema"]["enum"]
    charted = parameter(operation(testapp, "/reports/stock-balance"), "format")
    assert "svg" in charted["schema"]["enum"]
    boss = as_principal("user:boss", "group:admins")
    boss.get("/reports/stock-on-hand?format=svg", status=400)


def test_idempotency_key_schema_is_what_the_server_takes(testapp: Any, as_principal: Any) -> None:
    op = operation(testapp, "/locations/{code}/{sku}/movements", "post")
    schema = parameter(op, "Idempotency-Key")["schema"]
    pattern = re.compile(schema["pattern"])

    def documented(key: str) -> bool:
        return (
            schema["minLength"] <= len(key) <= schema["maxLength"]
            and pattern.match(key) is not None
        )

    boss = as_principal("user:boss", "group:admins")
    boss.put_json("/locations/WH1", {"name": "Main"})
    boss.put_json("/stock/A-1", {"name": "Anchor"})
    for key in ("k", "order 1001", "~!" * 100):
        assert documented(key)
        boss.post_json(
            "/locations/WH1/A-1/movements",
            {"kind": "receipt", "quantity": 1},
            headers={"Idempotency-Key": key},
            status=201,
        )
    for key in ("k" * 201, "tab\there"):
        assert not documented(key)
        boss.post_json(
            "/locations/WH1/A-1/movements",
            {"kind": "receipt", "quantity": 1},
            headers={"Idempotency-Key": key},
            status=400,
        )


def test_permission_names_are_the_declared_ones(
    testapp: Any, as_principal: Any, plinth_registry: Any
) -> None:
    declared = sorted(plinth_registry["plinth.permissions"])
    explain = parameter(operation(testapp, "/@@permissions"), "permission")
    assert explain["schema"]["enum"] == declared
    body = operation(testapp, "/@@acl", "put")["requestBody"]["content"]["application/json"]
    entry = body["schema"]["properties"]["entries"]["items"]["properties"]
    names, roles = entry["permission"]["anyOf"]
    assert names["enum"] == [*declared, "ALL"]
    role = re.compile(roles["pattern"])
    for name, ok in (
        ("role:stock.clerk", True),
        ("role:Clerk", False),
        ("role:", False),
        ("stock.clerk", False),
    ):
        assert bool(role.match(name)) is ok
    as_principal("user:boss", "group:admins").put_json(
        "/stock/@@acl",
        {
            "entries": [
                {"action": "Allow", "principal": "group:clerks", "permission": "role:stock.clerk"}
            ]
        },
        status=200,
    )
    principal = re.compile(entry["principal"]["pattern"])
    boss = as_principal("user:boss", "group:admins")
    for name, ok in (
        ("user:rita", True),
        ("group:a.b-c", True),
        ("system.Everyone", True),
        ("rita", False),
        ("user:", False),
        ("system.Nobody", False),
    ):
        assert bool(principal.match(name)) is ok
        boss.put_json(
            "/stock/@@acl",
            {"entries": [{"action": "Allow", "principal": name, "permission": "stock.view"}]},
            status=200 if ok else 400,
        )
    boss.get("/@@permissions?permission=stock.view", status=200)
    boss.get("/@@permissions?permission=stock.nope", status=400)


def test_ttl_cap_is_the_setting_published(
    testapp: Any, as_principal: Any, plinth_registry: Any
) -> None:
    cap = plinth_registry.settings["stock.max_reservation_ttl"]
    body = operation(testapp, "/locations/{code}/{sku}/reservations", "post")["requestBody"]
    ttl = body["content"]["application/json"]["schema"]["properties"]["ttl_seconds"]
    assert ttl["maximum"] == cap
    boss = as_principal("user:boss", "group:admins")
    boss.put_json("/locations/WH1", {"name": "Main"})
    boss.put_json("/stock/A-1", {"name": "Anchor"})
    boss.post_json("/locations/WH1/A-1/movements", {"kind": "receipt", "quantity": 5})
    boss.post_json(
        "/locations/WH1/A-1/reservations",
        {"quantity": 1, "reference": "r", "ttl_seconds": cap},
        status=201,
    )
    error = boss.post_json(
        "/locations/WH1/A-1/reservations",
        {"quantity": 1, "reference": "r", "ttl_seconds": cap + 1},
        status=400,
    ).json
    assert error["details"]["errors"][0]["field"] == "ttl_seconds"


def test_text_without_nul_is_documented(testapp: Any, as_principal: Any) -> None:
    body = operation(testapp, "/auth/tokens", "post")["requestBody"]
    schema = body["content"]["application/json"]["schema"]
    nul_free = re.compile(schema["properties"]["password"]["pattern"])
    assert nul_free.match("pass word") and not nul_free.match("pass\x00word")
    response = testapp.post_json("/auth/tokens", {"username": "a", "password": "b\x00"}, status=400)
    assert response.json["error"] == "invalid_json"


def test_audit_times_and_empty_limits_are_documented(testapp: Any, as_principal: Any) -> None:
    audit = operation(testapp, "/@@audit")
    since = parameter(audit, "since")["schema"]["anyOf"]
    assert {s["format"] for s in since} == {"date", "date-time"}
    assert parameter(audit, "limit")["allowEmptyValue"] is True
    assert parameter(operation(testapp, "/stock"), "limit")["allowEmptyValue"] is True
    boss = as_principal("user:boss", "group:admins")
    boss.get("/@@audit?since=2024-01-01&until=2024-01-02T10:00:00Z&limit=", status=200)
    boss.get("/@@audit?since=yesterday", status=400)
    boss.get("/stock?limit=", status=200)


def test_who_and_roles_parameters_say_what_the_server_takes(
    testapp: Any, as_principal: Any, plinth_registry: Any
) -> None:
    boss = as_principal("user:boss", "group:admins")
    who = operation(testapp, "/@@who")
    assert parameter(who, "permission")["schema"]["enum"] == sorted(
        plinth_registry["plinth.permissions"]
    )
    assert parameter(who, "limit")["allowEmptyValue"] is True
    boss.get("/@@who?permission=", status=400)
    boss.get("/@@who?permission=stock.nothing", status=400)
    assert boss.get("/@@who?permission=acl.view&limit=").json["users"] == []
    name = re.compile(
        parameter(operation(testapp, "/@@roles/{name}", "delete"), "name")["schema"]["pattern"]
    )
    for role, status in (("clerks", 404), ("stock.clerk", 409), ("Clerks", 400), ("µ", 400)):
        assert bool(name.match(role)) is (status != 400)
        boss.delete(f"/@@roles/{quote(role)}", status=status)
