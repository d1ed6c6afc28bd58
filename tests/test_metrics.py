"""Request metrics: labels a client cannot multiply, durations, statements per request."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from prometheus_client import REGISTRY

OURS = ("plinth_http_requests", "plinth_http_request_seconds", "plinth_db_statements_per_request")


def label_values() -> set[tuple[str, tuple[tuple[str, str], ...]]]:
    """Every (metric, labels) pair of the request metrics, buckets left out."""
    return {
        (metric.name, tuple(sorted((k, v) for k, v in sample.labels.items() if k != "le")))
        for metric in REGISTRY.collect()
        if metric.name in OURS
        for sample in metric.samples
    }


def invented_requests(app: Any, admin: dict[str, str], n: int) -> None:
    """Methods and paths no route, view or resource knows, as a client may send."""
    app.request("/health", method=f"BREW{n}", expect_errors=True)
    app.request(f"/stock/A-1/x{n}", method=f"PURGE{n}", headers=admin, expect_errors=True)
    app.get(f"/nothing-{n}/at/all", headers=admin, status=404)
    app.get(f"/nothing-{n}", status=401)
    app.get(f"/stock/A-1/@@view{n}", headers=admin, status=404)
    app.get(f"/locations/WH{n}/Z-{n}/movements", headers=admin, status=404)
    app.get(f"/%ff{n}", status=400)


@pytest.mark.filterwarnings("ignore::webtest.lint.WSGIWarning")
def test_fifty_invented_methods_and_paths_add_no_label_values(
    testapp: Any, admin: dict[str, str]
) -> None:
    testapp.put_json("/stock/A-1", {"name": "Anchor"}, headers=admin, status=201)
    invented_requests(testapp, admin, 0)
    before = label_values()
    for n in range(1, 51):
        invented_requests(testapp, admin, n)
    after = label_values()
    assert after == before
    for _, labels in after:
        for _, value in labels:
            assert "BREW" not in value and "PURGE" not in value and "nothing" not in value
            assert "view1" not in value and "Z-1" not in value


def route_of(caplog: pytest.LogCaptureFixture) -> str:
    [line] = [r for r in caplog.records if r.name == "plinth.access"]
    caplog.clear()
    return str(line.route)  # type: ignore[attr-defined]


@pytest.mark.filterwarnings("ignore::webtest.lint.WSGIWarning")
def test_labels_name_routes_views_and_classes_of_method_and_status(
    testapp: Any, admin: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="plinth.access")
    testapp.put_json("/stock/A-1", {"name": "Anchor"}, headers=admin, status=201)
    caplog.clear()
    testapp.get("/stock/A-1", headers=admin)
    assert route_of(caplog) == "plinth_stock.resources.ItemResource"
    testapp.get("/stock/A-1/@@acl", headers=admin)
    assert route_of(caplog) == "plinth_stock.resources.ItemResource@@acl"
    testapp.get("/metrics", headers=admin)
    assert route_of(caplog) == "plinth.metrics"
    refused = {"route": "plinth_stock.resources.ItemResource", "method": "other", "status": "4xx"}
    before = REGISTRY.get_sample_value("plinth_http_requests_total", refused) or 0
    testapp.request("/stock/A-1", method="BREW", headers=admin, expect_errors=True)
    assert route_of(caplog) == "plinth_stock.resources.ItemResource"
    assert REGISTRY.get_sample_value("plinth_http_requests_total", refused) == before + 1
    durations = REGISTRY.get_sample_value(
        "plinth_http_request_seconds_count", {"route": "plinth.metrics", "method": "GET"}
    )
    assert durations is not None and durations >= 1


def test_statements_per_request_are_the_statements_the_request_ran(
    testapp: Any, admin: dict[str, str], sql_counter: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="plinth.access")
    testapp.put_json("/locations/WH1", {"name": "Main"}, headers=admin, status=201)
    testapp.put_json("/stock/A-1", {"name": "Anchor"}, headers=admin, status=201)
    testapp.post_json(
        "/locations/WH1/A-1/movements",
        {"kind": "receipt", "quantity": 4},
        headers=admin,
        status=201,
    )
    labels = {"route": "plinth_stock.resources.ItemResource"}

    def observed() -> tuple[float, float]:
        return (
            REGISTRY.get_sample_value("plinth_db_statements_per_request_sum", labels) or 0,
            REGISTRY.get_sample_value("plinth_db_statements_per_request_count", labels) or 0,
        )

    for _ in range(2):  # cold, then warm
        total, count = observed()
        caplog.clear()
        with sql_counter() as counter:
            testapp.get("/stock/A-1", headers=admin)
        [line] = [r for r in caplog.records if r.name == "plinth.access"]
        # the token's last use is recorded after the response, in a
        # statement of its own: not the request's work
        ran = len([s for s in counter.statements if not s.startswith("UPDATE auth_tokens")])
        assert observed() == (total + ran, count + 1)
        assert line.statements == ran  # type: ignore[attr-defined]
    assert ran == 1  # warm: the budget README states


def test_metrics_need_the_permission(testapp: Any, as_principal: Any) -> None:
    assert testapp.get("/metrics", status=401).json["error"] == "unauthorized"
    assert as_principal("user:cy").get("/metrics", status=403).json["error"] == "forbidden"
    monitor = as_principal("user:root", "group:admins")
    assert "plinth_http_requests_total" in monitor.get("/metrics").text
