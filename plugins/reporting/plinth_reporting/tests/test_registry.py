"""The report registry: ``config.add_report``, conflicts, bad declarations, other
contributors, the reporting database, and what disabling the plugin removes."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest
from pyramid.exceptions import ConfigurationConflictError, ConfigurationError
from sqlalchemy import create_engine, func, insert, select, text

from plinth.api import (
    AuditEntry,
    IReadEngine,
    SettingError,
    build_document,
    get_service,
    make_app,
    make_configurator,
)
from plinth_reporting.registry import registered_reports

from . import sample_reports

STOCK_REPORTS = ["low-stock", "movements", "stock-balance", "stock-on-hand", "valuation"]
SAMPLE_PLUGIN = "plinth_reporting.tests.sample_reports"


def configurator(plugins: str = "auth stock reporting") -> Any:
    return make_configurator({"sqlalchemy.url": "sqlite://", "plinth.plugins": plugins})


def query(db: Any, params: dict[str, Any]) -> Any:
    return select(text("'x' AS word"), text("1 AS n"))


def declaration(**changes: Any) -> dict[str, Any]:
    """A valid declaration of report 'sample', with ``changes``."""
    base: dict[str, Any] = {
        "name": "sample",
        "query": query,
        "title": "Sample",
        "columns": [("word", "string"), ("n", "integer")],
        "parameters": [{"name": "since", "type": "string", "format": "date"}],
    }
    return {**base, **changes}


def add(config: Any, spec: dict[str, Any]) -> None:
    spec = dict(spec)
    config.add_report(spec.pop("name"), spec.pop("query"), **spec)


# Registration -----------------------------------------------------------------------


def test_a_report_registers_is_introspectable_and_documented() -> None:
    config = configurator()
    add(
        config,
        declaration(
            description="Words and numbers",
            parameters=[
                {
                    "name": "since",
                    "type": "string",
                    "format": "date",
                    "description": "from this day",
                },
                {"name": "top", "type": "integer", "minimum": 1, "default": 10},
            ],
            chart={"kind": "line", "x": "word", "y": "n"},
        ),
    )
    config.commit()

    reports = registered_reports(config.registry)
    assert list(reports) == sorted([*STOCK_REPORTS, "access-review", "sample"])
    sample = reports["sample"]
    assert sample.formats == ["json", "csv", "svg"]
    assert [c.name for c in sample.columns] == ["word", "n"]

    introspector = config.registry.introspector
    intr = introspector.get("plinth reports", "sample")
    assert intr is not None
    assert intr["report"] is sample
    assert intr["source"] == __name__
    assert intr.title == "Sample"
    # stock's reports are there too, each naming the module that declared it
    for name in STOCK_REPORTS:
        assert introspector.get("plinth reports", name)["source"] == "plinth_stock.reports"

    paths = build_document(config.registry)["paths"]
    generic = paths["/reports/{name}"]["get"]
    fmt = next(p for p in generic["parameters"] if p["name"] == "format")
    assert fmt["in"] == "query"
    # a chart is published on the path of a report that has one
    assert fmt["schema"]["enum"] == ["json", "csv"]
    assert fmt["schema"]["default"] == "json"
    own = paths["/reports/sample"]["get"]
    by_name = {p["name"]: p for p in own["parameters"]}
    assert set(by_name) == {"format", "since", "top"}
    assert by_name["format"]["schema"]["enum"] == ["json", "csv", "svg"]
    assert by_name["since"]["schema"] == {"type": "string", "format": "date"}
    assert by_name["since"]["description"] == "from this day"
    assert by_name["top"]["schema"]["minimum"] == 1 and by_name["top"]["required"] is False
    content = own["responses"]["200"]["content"]
    assert set(content) == {"application/json", "text/csv", "image/svg+xml"}
    rows = content["application/json"]["schema"]["properties"]["rows"]["items"]
    assert set(rows["properties"]) == {"word", "n"}
    # a report without a chart offers no svg
    low = {p["name"]: p for p in paths["/reports/low-stock"]["get"]["parameters"]}
    assert low["format"]["schema"]["enum"] == ["json", "csv"]
    assert "image/svg+xml" not in paths["/reports/low-stock"]["get"]["responses"]["200"]["content"]


def test_two_reports_with_one_name_conflict() -> None:
    config = configurator()
    add(config, declaration())
    add(config, declaration(title="Sample again"))
    with pytest.raises(ConfigurationConflictError) as conflict:
        config.commit()
    assert "plinth.report" in str(conflict.value) and "sample" in str(conflict.value)


def test_a_plugin_claiming_a_stock_report_name_conflicts() -> None:
    config = configurator()
    config.include(sample_reports.claim_low_stock)
    with pytest.raises(ConfigurationConflictError) as conflict:
        config.commit()
    assert "low-stock" in str(conflict.value)


def test_a_plugin_claiming_a_stock_report_name_stops_make_app() -> None:
    with pytest.raises(ConfigurationConflictError):
        make_app(
            {
                "sqlalchemy.url": "sqlite://",
                "plinth.plugins": "auth stock reporting plinth_reporting.tests.bad_reports",
            }
        )


BAD_DECLARATIONS = [
    pytest.param({"title": ""}, "needs a title", id="no-title"),
    pytest.param({"query": 42}, "query is not callable", id="query-not-callable"),
    pytest.param(
        {"query": "plinth_reporting.tests.sample_reports.nosuch"},
        "cannot be",
        id="query-not-importable",
    ),
    pytest.param({"columns": []}, "at least one column", id="no-columns"),
    pytest.param({"columns": [("word", "text")]}, "type 'text'", id="column-type"),
    pytest.param(
        {"columns": [("n", "integer"), ("n", "integer")]}, "same name", id="duplicate-column"
    ),
    pytest.param({"columns": ["word"]}, "column", id="column-not-a-pair"),
    pytest.param(
        {"columns": [{"name": "n", "type": "integer", "scale": 2}]}, "scale", id="scale-on-integer"
    ),
    pytest.param(
        {"columns": [{"name": "n", "type": "integer", "width": 3}]},
        "width",
        id="unknown-column-key",
    ),
    pytest.param(
        {"parameters": [{"name": "format", "type": "string"}]}, "reserved", id="reserved-parameter"
    ),
    pytest.param(
        {"parameters": [{"name": "Since", "type": "string"}]}, "parameter name", id="parameter-name"
    ),
    pytest.param(
        {"parameters": [{"name": "since", "type": "date"}]}, "type 'date'", id="parameter-type"
    ),
    pytest.param(
        {"parameters": [{"name": "since", "type": "string", "items": {}}]},
        "unsupported",
        id="parameter-keyword",
    ),
    pytest.param(
        {"parameters": [{"name": "n", "type": "integer", "format": "date"}]},
        "format",
        id="format-on-integer",
    ),
    pytest.param(
        {"parameters": [{"name": "n", "type": "integer", "required": True, "default": 1}]},
        "required and has a default",
        id="required-with-default",
    ),
    pytest.param(
        {"parameters": [{"name": "p", "type": "string", "enum": ["a", "b"], "default": "c"}]},
        "bad default",
        id="default-not-in-enum",
    ),
    pytest.param(
        {
            "parameters": [
                {"name": "d", "type": "string", "format": "date", "default": "2024-02-30"}
            ]
        },
        "bad default",
        id="default-not-a-date",
    ),
    pytest.param(
        {"parameters": [{"name": "p", "type": "string"}, {"name": "p", "type": "integer"}]},
        "same name",
        id="duplicate-parameter",
    ),
    pytest.param(
        {"chart": {"kind": "pie", "x": "word", "y": ["n"]}}, "chart kind", id="chart-kind"
    ),
    pytest.param(
        {"chart": {"kind": "bar", "x": "nosuch", "y": ["n"]}}, "'nosuch'", id="chart-x-not-a-column"
    ),
    pytest.param(
        {"chart": {"kind": "bar", "x": "n", "y": ["word"]}},
        "not a number",
        id="chart-y-not-a-number",
    ),
    pytest.param(
        {"chart": {"kind": "bar", "x": "word", "y": []}}, "y column", id="chart-without-y"
    ),
    pytest.param(
        {"chart": {"kind": "bar", "x": "word", "y": ["n"], "x_period": "year"}},
        "x_period",
        id="chart-period",
    ),
    pytest.param(
        {"chart": {"kind": "bar", "x": "word", "y": ["n"], "colour": "red"}},
        "colour",
        id="chart-unknown-key",
    ),
    pytest.param(
        {
            "chart": {
                "kind": "bar",
                "x": "word",
                "y": ["n"],
                "query": "plinth_reporting.tests.sample_reports.nosuch",
            }
        },
        "cannot be",
        id="chart-query-not-importable",
    ),
]


@pytest.mark.parametrize(("changes", "message"), BAD_DECLARATIONS)
def test_bad_declarations_stop_start_up_naming_the_report(
    changes: dict[str, Any], message: str
) -> None:
    config = configurator()
    with pytest.raises(ConfigurationError) as stopped:
        add(config, declaration(**changes))
    assert not isinstance(stopped.value, ConfigurationConflictError)
    assert "report 'sample'" in str(stopped.value)
    assert message in str(stopped.value)


@pytest.mark.parametrize(
    "name", ["Sample", "-sample", "sample report", "x" * 65, "", "sample/../x"]
)
def test_bad_report_names_are_refused(name: str) -> None:
    with pytest.raises(ConfigurationError) as stopped:
        add(configurator(), declaration(name=name))
    assert "bad report name" in str(stopped.value) and repr(name) in str(stopped.value)


# A report from a plugin that is not stock --------------------------------------------


def test_a_report_from_another_plugin_answers_json_and_csv(
    other_app: Any, admin: dict[str, str], plinth_engine: Any
) -> None:
    app = other_app(f"auth stock reporting {SAMPLE_PLUGIN}")
    listed = app.get("/reports", headers=admin).json["reports"]
    assert [r["name"] for r in listed] == sorted(
        [*STOCK_REPORTS, "access-review", "audit-activity", "formulas", "literals"]
    )
    audit = next(r for r in listed if r["name"] == "audit-activity")
    assert audit["url"] == "http://localhost/reports/audit-activity"
    assert audit["formats"] == ["json", "csv"]

    # creating the admin and issuing its token wrote to the audit log
    with plinth_engine.connect() as connection:
        a = AuditEntry.__table__
        expected = [
            {"kind": kind, "entries": count}
            for kind, count in connection.execute(
                select(a.c.kind, func.count()).group_by(a.c.kind).order_by(a.c.kind)
            )
        ]
    assert expected
    body = app.get("/reports/audit-activity", headers=admin).json
    assert body["report"] == "audit-activity" and body["title"] == "Audit activity"
    assert body["columns"] == [
        {"name": "kind", "type": "string"},
        {"name": "entries", "type": "integer"},
    ]
    assert body["parameters"] == {"kind": None}
    assert body["rows"] == expected and body["row_count"] == len(expected)

    one = expected[0]["kind"]
    filtered = app.get(f"/reports/audit-activity?kind={one}", headers=admin).json
    assert filtered["rows"] == [expected[0]] and filtered["parameters"] == {"kind": one}

    response = app.get("/reports/audit-activity?format=csv", headers=admin)
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"].startswith(
        'attachment; filename="audit-activity-'
    )
    lines = list(csv.reader(io.StringIO(response.text)))
    assert lines == [["kind", "entries"]] + [[r["kind"], str(r["entries"])] for r in expected]

    app.get("/reports/audit-activity?format=svg", headers=admin, status=400)
    app.get("/reports/audit-activity?knd=x", headers=admin, status=400)


def test_values_of_every_column_type_in_json_and_csv(other_app: Any, admin: dict[str, str]) -> None:
    app = other_app(f"auth stock reporting {SAMPLE_PLUGIN}")
    rows = app.get("/reports/literals", headers=admin).json["rows"]
    assert rows == [
        {
            "text": "plain",
            "n": 1,
            "price": "1.50",
            "day": "2024-02-29",
            "moment": "2024-02-29T12:30:00+00:00",
        },
        {
            "text": 'comma, "quote"\nand a line',
            "n": -7,
            "price": "0.10",
            "day": "1999-12-31",
            "moment": "1999-12-31T23:59:59+00:00",
        },
        # the declared scale rounds half to even
        {"text": "héllo ✓", "n": 2**40, "price": "12345.68", "day": None, "moment": None},
    ]
    response = app.get("/reports/literals?format=csv", headers=admin)
    # RFC 4180: CRLF line ends; the embedded newline stays inside its quotes
    assert response.body.decode("utf-8").startswith("text,n,price,day,moment\r\n")
    parsed = list(csv.DictReader(io.StringIO(response.body.decode("utf-8"), newline="")))
    assert parsed == [{k: "" if v is None else str(v) for k, v in row.items()} for row in rows]
    # a typed parameter filters in SQL
    assert [r["n"] for r in app.get("/reports/literals?min_n=2", headers=admin).json["rows"]] == [
        2**40
    ]
    bad = app.get("/reports/literals?min_n=-101", headers=admin, status=400).json
    assert bad["details"]["errors"][0]["field"] == "min_n"


def test_csv_neutralises_text_cells_a_spreadsheet_would_run(
    other_app: Any, admin: dict[str, str]
) -> None:
    from .sample_reports import FORMULA_ROWS

    app = other_app(f"auth stock reporting {SAMPLE_PLUGIN}")
    response = app.get("/reports/formulas?format=csv", headers=admin)
    parsed = list(csv.reader(io.StringIO(response.body.decode("utf-8"), newline="")))
    assert parsed[0] == ["text", "n", "price"]
    texts = [row[0] for row in parsed[1:]]
    assert texts == [
        "'" + FORMULA_ROWS[0][0],
        "'+1+1",
        "'-2+3",
        "'@SUM(A1:A2)",
        "'\tcmd",
        "'\rcmd",
        "a=b, -c",
        "",
    ]
    # numbers are numbers, negative or not: nothing is prefixed
    assert [row[1] for row in parsed[1:]] == [str(n) for _, n, _ in FORMULA_ROWS]
    assert [row[2] for row in parsed[1:]] == [
        "-2.50",
        "-0.01",
        "0.00",
        "1.25",
        "-99999999.99",
        "7.00",
        "8.00",
        "9.00",
    ]
    # JSON is data, not a spreadsheet: the values are returned as they are
    rows = app.get("/reports/formulas", headers=admin).json["rows"]
    assert [row["text"] for row in rows] == [text for text, _, _ in FORMULA_ROWS]


# The reporting database ------------------------------------------------------------


def test_reports_read_from_reporting_database_url(
    other_app: Any, admin: dict[str, str], boss: Any, tmp_path: Path
) -> None:
    from plinth_stock.models import Item, Location, Movement, Reservation, StockLevel

    # The main database has A-1 at WH1 ...
    boss.put_json("/locations/WH1", {"name": "Main"}, status=201)
    boss.put_json("/stock/A-1", {"name": "Main item", "unit_cost": "1"}, status=201)
    boss.post_json("/locations/WH1/A-1/movements", {"kind": "receipt", "quantity": 10}, status=201)
    # ... the replica something else.
    url = f"sqlite:///{tmp_path / 'replica.sqlite'}"
    replica = create_engine(url)
    tables = [t.__table__ for t in (Item, Location, StockLevel, Movement, Reservation)]
    tables[0].metadata.create_all(replica, tables=tables)
    with replica.begin() as connection:
        connection.execute(
            insert(Item.__table__).values(
                id=1,
                sku="R-1",
                name="Replica item",
                unit="each",
                reorder_point=0,
                unit_cost=2,
                active=True,
                version=1,
                created_at=func.now(),
                updated_at=func.now(),
            )
        )
        connection.execute(
            insert(Location.__table__).values(
                id=1,
                code="RWH",
                name="Replica",
                version=1,
                created_at=func.now(),
                updated_at=func.now(),
            )
        )
        connection.execute(
            insert(StockLevel.__table__).values(item_id=1, location_id=1, on_hand=42, reserved=0)
        )
        connection.execute(
            insert(Movement.__table__).values(
                id=1,
                item_id=1,
                location_id=1,
                kind="receipt",
                quantity=42,
                balance=42,
                created_at=func.now(),
            )
        )
    replica.dispose()

    app = other_app("auth stock reporting", **{"reporting.database_url": url})
    assert str(get_service(app.app.registry, IReadEngine, "reporting").url) == url
    on_hand = app.get("/reports/stock-on-hand", headers=admin).json["rows"]
    assert on_hand == [
        {
            "sku": "R-1",
            "name": "Replica item",
            "location": "RWH",
            "on_hand": 42,
            "reserved": 0,
            "available": 42,
            "unit_cost": "2.0000",
            "value": "84.0000",
        }
    ]
    ledger = app.get("/reports/movements?format=csv", headers=admin).text
    assert "R-1" in ledger and "A-1" not in ledger
    # the API itself still reads the main database
    assert app.get("/stock/A-1", headers=admin).json["on_hand"] == 10
    app.get("/stock/R-1", headers=admin, status=404)
    # and the session app, without the setting, reports the main database
    assert [r["sku"] for r in boss.get("/reports/stock-on-hand").json["rows"]] == ["A-1"]


def test_reporting_database_url_pointing_at_the_main_database(
    other_app: Any, admin: dict[str, str], boss: Any, plinth_settings: dict[str, Any]
) -> None:
    boss.put_json("/locations/WH1", {"name": "Main"}, status=201)
    boss.put_json("/stock/A-1", {"name": "Main item"}, status=201)
    boss.post_json("/locations/WH1/A-1/movements", {"kind": "receipt", "quantity": 3}, status=201)
    app = other_app(
        "auth stock reporting", **{"reporting.database_url": plinth_settings["sqlalchemy.url"]}
    )
    registry = app.app.registry
    assert get_service(registry, IReadEngine, "reporting") is not get_service(registry, IReadEngine)
    rows = app.get("/reports/stock-on-hand", headers=admin).json["rows"]
    assert [(r["sku"], r["location"], r["on_hand"]) for r in rows] == [("A-1", "WH1", 3)]


def test_a_bad_reporting_database_url_stops_start_up_without_echoing_it() -> None:
    with pytest.raises(SettingError) as stopped:
        make_app(
            {
                "sqlalchemy.url": "sqlite://",
                "plinth.plugins": "auth stock reporting",
                "reporting.database_url": "nosuchdb+driver://reader:s3cret@db/x",
            }
        )
    assert "reporting.database_url" in str(stopped.value)
    assert "s3cret" not in str(stopped.value)


# Disabled ---------------------------------------------------------------------------


def test_disabling_reporting_removes_its_paths_and_routes(
    other_app: Any, admin: dict[str, str]
) -> None:
    app = other_app("auth stock")
    paths = app.get("/openapi.json").json["paths"]
    assert "/stock/{sku}" in paths
    assert not [p for p in paths if p.startswith("/reports")]
    assert not registered_reports(app.app.registry)
    home = app.get("/", headers=admin).json
    assert "reporting" in [p["name"] for p in home["disabled_plugins"]]
    app.get("/reports", headers=admin, status=404)
    app.get("/reports/low-stock", headers=admin, status=404)
    # stock works without it
    app.get("/stock", headers=admin, status=200)
    # and, enabled, the paths are there
    enabled = other_app("auth stock reporting").get("/openapi.json").json["paths"]
    assert {"/reports", "/reports/{name}", *(f"/reports/{n}" for n in STOCK_REPORTS)} <= set(
        enabled
    )
