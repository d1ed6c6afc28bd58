"""``config.add_endpoint``: a view and its OpenAPI operation, declared once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from webtest import TestApp

PLUGIN = """
from plinth.api import PAGING, QueryParameter


def shelves(request):
    return {{"query": {{k: str(v) for k, v in request.query.items()}}}}


def shelf_put(request):
    return {{"code": request.matchdict["code"], "body": request.validated}}


def includeme(config):
    config.declare_permission("shelves.view", "see shelves")
    config.declare_permission("shelves.manage", "change shelves")
    config.add_route("shelves", "/shelves")
    config.add_route("shelf", "/shelves/{{code}}")
    config.add_endpoint(
        shelves, "/shelves", "GET", route_name="shelves", public=True,
        summary="Shelves", tags=["shelves"],
        query=[QueryParameter("height", {{"type": "integer", "minimum": 1}}),
               QueryParameter("since", {{"type": "string", "format": "date"}}),
               *PAGING])
    config.add_endpoint(
        shelf_put, "/shelves/{{code}}", "PUT", route_name="shelf",
        permission="shelves.manage",
        parameters=[{{"name": "code", "in": "path", "required": True,
                     "schema": {{"type": "string", "pattern": "^[A-Z]+$"}}}}],
        body_schema={{"type": "object", "required": ["name"],
                     "properties": {{"name": {{"type": "string"}}}}}},
        summary="Create or rename a shelf", tags=["shelves"],
        responses={{"200": {{"description": "the shelf"}}}})
{extra}
"""


def start(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, extra: str = "") -> Any:
    """main() with a plugin declaring two endpoints, and ``extra`` in its includeme."""
    from plinth import main

    name = f"plinth_endpoints_{abs(hash(extra))}"
    (tmp_path / f"{name}.py").write_text(PLUGIN.format(extra=extra))
    monkeypatch.syspath_prepend(str(tmp_path))
    return main(
        {}, **{"sqlalchemy.url": f"sqlite:///{tmp_path / 'x.sqlite'}", "plinth.plugins": name}
    )


def exit_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, extra: str) -> str:
    with pytest.raises(SystemExit) as raised:
        start(tmp_path, monkeypatch, extra)
    line = str(raised.value)
    assert "\n" not in line
    return line


def test_the_operation_is_published_from_the_declaration(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = TestApp(start(tmp_path, monkeypatch))
    paths = app.get("/openapi.json").json["paths"]
    listing = paths["/shelves"]["get"]
    assert listing["summary"] == "Shelves" and listing["security"] == []
    assert [p["name"] for p in listing["parameters"]] == ["height", "since", "limit", "cursor"]
    assert listing["parameters"][0]["schema"]["minimum"] == 1
    put = paths["/shelves/{code}"]["put"]
    (code,) = [p for p in put["parameters"] if p["in"] == "path"]
    assert code["schema"]["pattern"] == "^[A-Z]+$"
    assert put["requestBody"]["content"]["application/json"]["schema"]["required"] == ["name"]
    assert put["responses"]["200"] == {"description": "the shelf"}
    assert "401" in put["responses"] and "security" not in put


def test_query_parameters_arrive_converted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    app = TestApp(start(tmp_path, monkeypatch))
    assert app.get("/shelves?height=3&since=2024-05-01").json["query"] == {
        "height": "3",
        "since": "2024-05-01",
        "limit": "50",
        "cursor": "None",
    }
    assert app.get("/shelves?height=&limit=7").json["query"]["limit"] == "7"


def test_bad_query_parameters_are_one_400_naming_each(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = TestApp(start(tmp_path, monkeypatch))
    body = app.get("/shelves?height=0&since=May&limit=x&limit=2", status=400).json
    assert body["error"] == "invalid_request"
    assert {e["field"] for e in body["details"]["errors"]} == {"height", "since", "limit"}
    assert all(e["location"] == "query" for e in body["details"]["errors"])
    body = app.get("/shelves?limit=501", status=400).json
    assert body["details"]["errors"][0]["field"] == "limit"


def test_the_introspector_lists_endpoints(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    registry = start(tmp_path, monkeypatch).registry
    listed = {
        (e["introspectable"]["method"], e["introspectable"]["path"]): e["introspectable"][
            "view"
        ].__name__
        for e in registry.introspector.get_category("plinth openapi")
    }
    assert listed[("get", "/shelves")] == "shelves"
    assert listed[("put", "/shelves/{code}")] == "shelf_put"


def test_two_endpoints_on_one_operation_conflict(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    line = exit_line(
        tmp_path,
        monkeypatch,
        """
    config.add_route("shelves2", "/shelves2")
    config.add_endpoint(shelves, "/shelves", "GET", route_name="shelves2", public=True,
                        summary="Shelves again")""",
    )
    assert "conflict" in line.lower() and "/shelves" in line


def test_an_operation_without_a_view_stops_start_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    line = exit_line(
        tmp_path,
        monkeypatch,
        """
    config.add_openapi_path("/shelves/{code}/books", "get", {"summary": "Books"})""",
    )
    assert line == (
        "plinth: operation GET /shelves/{code}/books is documented but no view "
        "serves it: declare it with config.add_endpoint(view, ...)"
    )


def test_an_operation_for_a_view_not_registered_stops_start_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    line = exit_line(
        tmp_path,
        monkeypatch,
        """
    config.add_openapi_path("/shelves", "post", {"summary": "Add"}, view=shelves)""",
    )
    assert line.startswith("plinth: operation POST /shelves is documented for view ")
    assert line.endswith(".shelves, which is not registered for POST")


# Views that answer something other than JSON: the API document's page,
# metrics in Prometheus' text format, and the admin console's HTML.
NOT_JSON = {"plinth.views.docs", "plinth.views.metrics"}


def test_every_json_view_has_an_operation_and_every_operation_a_view(plinth_registry: Any) -> None:
    from pyramid.httpexceptions import default_exceptionresponse_view
    from pyramid.static import static_view

    from plinth.viewsecurity import view_name

    introspector = plinth_registry.introspector
    documented = {
        (e["introspectable"]["view"], e["introspectable"]["method"])
        for e in introspector.get_category("plinth openapi")
    }
    assert all(view is not None for view, _ in documented)
    served = set()
    for entry in introspector.get_category("views"):
        intr = entry["introspectable"]
        view = intr["callable"]
        if (
            intr["exception_only"]
            or isinstance(view, static_view)
            or view is default_exceptionresponse_view
            or view_name(view).startswith("plinth_admin.")
            or view_name(view) in NOT_JSON
        ):
            continue
        for method in intr["request_methods"] or ("ANY",):
            if method != "HEAD":
                served.add((view, method.lower()))
    undocumented = sorted(f"{m.upper()} {view_name(v)}" for v, m in served - documented)
    assert undocumented == []
    unserved = sorted(f"{m.upper()} {view_name(v)}" for v, m in documented - served)
    assert unserved == []


def test_the_document_is_openapi_3_1_in_the_validators_dialect(testapp: Any) -> None:
    """Every schema in the document is one the request validator reads alike."""
    import json

    from plinth.validation import StrictValidator

    document = testapp.get("/openapi.json").json
    assert document["openapi"] == "3.1.0"
    assert document["jsonSchemaDialect"] == "https://json-schema.org/draft/2020-12/schema"
    assert StrictValidator.META_SCHEMA["$schema"] == document["jsonSchemaDialect"]
    assert '"nullable"' not in json.dumps(document)
    schemas = list(document["components"]["schemas"].values())
    for item in document["paths"].values():
        for operation in item.values():
            schemas += [p["schema"] for p in operation.get("parameters", [])]
            for where in (operation.get("requestBody", {}), *operation["responses"].values()):
                schemas += [m["schema"] for m in where.get("content", {}).values()]
    assert len(schemas) > 100
    for schema in schemas:
        StrictValidator.check_schema(schema)


def test_an_integral_number_is_an_integer_as_the_dialect_says(as_principal: Any) -> None:
    boss = as_principal("user:boss", "group:admins")
    boss.put_json("/locations/WH1", {"name": "Main"})
    boss.put_json("/stock/A-1", {"name": "Anchor", "reorder_point": 2.0})
    boss.post_json("/locations/WH1/A-1/movements", {"kind": "receipt", "quantity": 4.0}, status=201)
    item = boss.get("/stock/A-1").json
    assert item["on_hand"] == 4 and type(item["on_hand"]) is int
    assert boss.get("/stock/A-1").json["reorder_point"] == 2
    error = boss.post_json(
        "/locations/WH1/A-1/movements", {"kind": "receipt", "quantity": 1.5}, status=400
    ).json
    assert error["details"]["errors"][0]["field"] == "quantity"
