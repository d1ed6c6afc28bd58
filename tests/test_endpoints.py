"""``config.add_endpoint``: a view and its OpenAPI operation, declared once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from webtest import TestApp

PLUGIN = '''
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
'''


def start(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, extra: str = "") -> Any:
    """main() with a plugin declaring two endpoints, and ``extra`` in its includeme."""
    from plinth import main

    name = f"plinth_endpoints_{abs(hash(extra))}"
    (tmp_path / f"{name}.py").write_text(PLUGIN.format(extra=extra))
    monkeypatch.syspath_prepend(str(tmp_path))
    return main({}, **{"sqlalchemy.url": f"sqlite:///{tmp_path / 'x.sqlite'}",
                       "plinth.plugins": name})


def exit_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, extra: str) -> str:
    with pytest.raises(SystemExit) as raised:
        start(tmp_path, monkeypatch, extra)
    line = str(raised.value)
    assert "\n" not in line
    return line


def test_the_operation_is_published_from_the_declaration(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
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


def test_query_parameters_arrive_converted(tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    app = TestApp(start(tmp_path, monkeypatch))
    assert app.get("/shelves?height=3&since=2024-05-01").json["query"] == {
        "height": "3", "since": "2024-05-01", "limit": "50", "cursor": "None"}
    assert app.get("/shelves?height=&limit=7").json["query"]["limit"] == "7"


def test_bad_query_parameters_are_one_400_naming_each(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    app = TestApp(start(tmp_path, monkeypatch))
    body = app.get("/shelves?height=0&since=May&limit=x&limit=2", status=400).json
    assert body["error"] == "invalid_request"
    assert {e["field"] for e in body["details"]["errors"]} == {"height", "since", "limit"}
    assert all(e["location"] == "query" for e in body["details"]["errors"])
    body = app.get("/shelves?limit=501", status=400).json
    assert body["details"]["errors"][0]["field"] == "limit"


def test_the_introspector_lists_endpoints(tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    registry = start(tmp_path, monkeypatch).registry
    listed = {(e["introspectable"]["method"], e["introspectable"]["path"]):
              e["introspectable"]["view"].__name__
              for e in registry.introspector.get_category("plinth openapi")}
    assert listed[("get", "/shelves")] == "shelves"
    assert listed[("put", "/shelves/{code}")] == "shelf_put"


def test_two_endpoints_on_one_operation_conflict(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    line = exit_line(tmp_path, monkeypatch, '''
    config.add_route("shelves2", "/shelves2")
    config.add_endpoint(shelves, "/shelves", "GET", route_name="shelves2", public=True,
                        summary="Shelves again")''')
    assert "conflict" in line.lower() and "/shelves" in line
