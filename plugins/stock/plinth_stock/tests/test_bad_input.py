"""Bad requests to every stock write endpoint: the right 4xx, the JSON error shape,
and nothing changed (levels, reservations, movements, items, locations)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from .helpers import assert_error, level, move, put_item, put_location, reserve, snapshot

BIG = 2**31
HUGE = 2**40
MOVEMENTS = "/locations/WH1/A-1/movements"
RESERVATIONS = "/locations/WH1/A-1/reservations"
TRANSFERS = "/stock/A-1/transfers"
ITEM = "/stock/A-1"
NEW_ITEM = "/stock/NEW-1"
LOCATION = "/locations/WH1"
NEW_LOCATION = "/locations/WH9"
JSON = "application/json"


def receipt(**fields: Any) -> dict[str, Any]:
    return {"kind": "receipt", "quantity": 1, **fields}


def reservation(**fields: Any) -> dict[str, Any]:
    return {"quantity": 1, "reference": "SO-1", **fields}


def transfer(**fields: Any) -> dict[str, Any]:
    return {"from": "WH1", "to": "WH2", "quantity": 1, **fields}


def without(body: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k != key}


# (method, url, body, status, error code or None, the field named in details or None)
JSON_CASES: list[tuple[str, str, Any, int, str | None, str | None]] = [
    # Quantities of movements
    ("POST", MOVEMENTS, receipt(quantity=0), 400, "invalid_request", "quantity"),
    ("POST", MOVEMENTS, receipt(quantity=-1), 400, "invalid_request", "quantity"),
    ("POST", MOVEMENTS, {"kind": "issue", "quantity": 0}, 400, "invalid_request", "quantity"),
    ("POST", MOVEMENTS, {"kind": "issue", "quantity": -3}, 400, "invalid_request", "quantity"),
    ("POST", MOVEMENTS, receipt(quantity=1.5), 400, "invalid_request", "quantity"),
    ("POST", MOVEMENTS, receipt(quantity="3"), 400, "invalid_request", "quantity"),
    ("POST", MOVEMENTS, receipt(quantity=True), 400, "invalid_request", "quantity"),
    ("POST", MOVEMENTS, receipt(quantity=None), 400, "invalid_request", "quantity"),
    ("POST", MOVEMENTS, receipt(quantity=[1]), 400, "invalid_request", "quantity"),
    ("POST", MOVEMENTS, receipt(quantity=BIG), 400, "invalid_request", "quantity"),
    ("POST", MOVEMENTS, receipt(quantity=HUGE), 400, "invalid_request", "quantity"),
    ("POST", MOVEMENTS, {"kind": "issue", "quantity": HUGE}, 400, "invalid_request", "quantity"),
    # Adjustments
    (
        "POST",
        MOVEMENTS,
        {"kind": "adjustment", "quantity": 0, "reason": "count"},
        400,
        "invalid_request",
        "quantity",
    ),
    ("POST", MOVEMENTS, {"kind": "adjustment", "quantity": -2}, 400, "invalid_request", "reason"),
    (
        "POST",
        MOVEMENTS,
        {"kind": "adjustment", "quantity": 2, "reason": ""},
        400,
        "invalid_request",
        "reason",
    ),
    (
        "POST",
        MOVEMENTS,
        {"kind": "adjustment", "quantity": 2, "reason": "x" * 501},
        400,
        "invalid_request",
        "reason",
    ),
    (
        "POST",
        MOVEMENTS,
        {"kind": "adjustment", "quantity": -BIG, "reason": "count"},
        400,
        "invalid_request",
        "quantity",
    ),
    (
        "POST",
        MOVEMENTS,
        {"kind": "adjustment", "quantity": BIG, "reason": "count"},
        400,
        "invalid_request",
        "quantity",
    ),
    (
        "POST",
        MOVEMENTS,
        {"kind": "adjustment", "quantity": 1.5, "reason": "count"},
        400,
        "invalid_request",
        "quantity",
    ),
    # Fields and kinds of movements
    ("POST", MOVEMENTS, receipt(colour="red"), 400, "invalid_request", "colour"),
    ("POST", MOVEMENTS, {"quantity": 1}, 400, "invalid_request", "kind"),
    ("POST", MOVEMENTS, {"kind": "receipt"}, 400, "invalid_request", "quantity"),
    ("POST", MOVEMENTS, {}, 400, "invalid_request", None),
    ("POST", MOVEMENTS, receipt(kind="gift"), 400, "invalid_request", "kind"),
    ("POST", MOVEMENTS, receipt(kind="transfer_in"), 400, "invalid_request", "kind"),
    ("POST", MOVEMENTS, receipt(kind="reservation_confirmed"), 400, "invalid_request", "kind"),
    ("POST", MOVEMENTS, receipt(kind=1), 400, "invalid_request", "kind"),
    ("POST", MOVEMENTS, receipt(kind=None), 400, "invalid_request", "kind"),
    ("POST", MOVEMENTS, receipt(reference=""), 400, "invalid_request", "reference"),
    ("POST", MOVEMENTS, receipt(reference="r" * 201), 400, "invalid_request", "reference"),
    ("POST", MOVEMENTS, receipt(reference=5), 400, "invalid_request", "reference"),
    ("POST", MOVEMENTS, [receipt()], 400, "invalid_request", None),
    ("POST", MOVEMENTS, "receipt", 400, "invalid_request", None),
    ("POST", MOVEMENTS, None, 400, "invalid_request", None),
    # reservations
    ("POST", RESERVATIONS, reservation(quantity=0), 400, "invalid_request", "quantity"),
    ("POST", RESERVATIONS, reservation(quantity=-1), 400, "invalid_request", "quantity"),
    ("POST", RESERVATIONS, reservation(quantity=1.5), 400, "invalid_request", "quantity"),
    ("POST", RESERVATIONS, reservation(quantity="3"), 400, "invalid_request", "quantity"),
    ("POST", RESERVATIONS, reservation(quantity=True), 400, "invalid_request", "quantity"),
    ("POST", RESERVATIONS, reservation(quantity=None), 400, "invalid_request", "quantity"),
    ("POST", RESERVATIONS, reservation(quantity=BIG), 400, "invalid_request", "quantity"),
    ("POST", RESERVATIONS, reservation(quantity=HUGE), 400, "invalid_request", "quantity"),
    ("POST", RESERVATIONS, without(reservation(), "quantity"), 400, "invalid_request", "quantity"),
    (
        "POST",
        RESERVATIONS,
        without(reservation(), "reference"),
        400,
        "invalid_request",
        "reference",
    ),
    ("POST", RESERVATIONS, reservation(reference=""), 400, "invalid_request", "reference"),
    ("POST", RESERVATIONS, reservation(reference=7), 400, "invalid_request", "reference"),
    ("POST", RESERVATIONS, reservation(expires="tomorrow"), 400, "invalid_request", "expires"),
    ("POST", RESERVATIONS, reservation(ttl_seconds=0), 400, "invalid_request", "ttl_seconds"),
    ("POST", RESERVATIONS, reservation(ttl_seconds=-60), 400, "invalid_request", "ttl_seconds"),
    (
        "POST",
        RESERVATIONS,
        reservation(ttl_seconds=7 * 24 * 3600 + 1),
        400,
        "invalid_request",
        "ttl_seconds",
    ),
    ("POST", RESERVATIONS, reservation(ttl_seconds=BIG), 400, "invalid_request", "ttl_seconds"),
    ("POST", RESERVATIONS, reservation(ttl_seconds=HUGE), 400, "invalid_request", "ttl_seconds"),
    ("POST", RESERVATIONS, reservation(ttl_seconds=1.5), 400, "invalid_request", "ttl_seconds"),
    ("POST", RESERVATIONS, reservation(ttl_seconds="60"), 400, "invalid_request", "ttl_seconds"),
    ("POST", RESERVATIONS, reservation(ttl_seconds=None), 400, "invalid_request", "ttl_seconds"),
    ("POST", RESERVATIONS, [], 400, "invalid_request", None),
    # transfers
    ("POST", TRANSFERS, transfer(quantity=0), 400, "invalid_request", "quantity"),
    ("POST", TRANSFERS, transfer(quantity=-2), 400, "invalid_request", "quantity"),
    ("POST", TRANSFERS, transfer(quantity=1.5), 400, "invalid_request", "quantity"),
    ("POST", TRANSFERS, transfer(quantity="3"), 400, "invalid_request", "quantity"),
    ("POST", TRANSFERS, transfer(quantity=True), 400, "invalid_request", "quantity"),
    ("POST", TRANSFERS, transfer(quantity=None), 400, "invalid_request", "quantity"),
    ("POST", TRANSFERS, transfer(quantity=BIG), 400, "invalid_request", "quantity"),
    ("POST", TRANSFERS, transfer(quantity=HUGE), 400, "invalid_request", "quantity"),
    ("POST", TRANSFERS, without(transfer(), "from"), 400, "invalid_request", "from"),
    ("POST", TRANSFERS, without(transfer(), "to"), 400, "invalid_request", "to"),
    ("POST", TRANSFERS, without(transfer(), "quantity"), 400, "invalid_request", "quantity"),
    ("POST", TRANSFERS, transfer(via="WH3"), 400, "invalid_request", "via"),
    ("POST", TRANSFERS, transfer(to="WH1"), 400, "invalid_request", "to"),
    ("POST", TRANSFERS, transfer(to="bad code"), 400, "invalid_request", "to"),
    ("POST", TRANSFERS, transfer(to=""), 400, "invalid_request", "to"),
    ("POST", TRANSFERS, transfer(to="W" * 65), 400, "invalid_request", "to"),
    ("POST", TRANSFERS, transfer(**{"from": ["WH1"]}), 400, "invalid_request", "from"),
    ("POST", TRANSFERS, transfer(reference=""), 400, "invalid_request", "reference"),
    ("POST", TRANSFERS, "WH1->WH2", 400, "invalid_request", None),
    # items
    ("PUT", ITEM, {}, 400, "invalid_request", "name"),
    ("PUT", ITEM, {"name": ""}, 400, "invalid_request", "name"),
    ("PUT", ITEM, {"name": "n" * 201}, 400, "invalid_request", "name"),
    ("PUT", ITEM, {"name": 5}, 400, "invalid_request", "name"),
    ("PUT", ITEM, {"name": "x", "colour": "red"}, 400, "invalid_request", "colour"),
    ("PUT", ITEM, {"name": "x", "reorder_point": -1}, 400, "invalid_request", "reorder_point"),
    ("PUT", ITEM, {"name": "x", "reorder_point": 1.5}, 400, "invalid_request", "reorder_point"),
    ("PUT", ITEM, {"name": "x", "reorder_point": "3"}, 400, "invalid_request", "reorder_point"),
    ("PUT", ITEM, {"name": "x", "reorder_point": BIG}, 400, "invalid_request", "reorder_point"),
    ("PUT", ITEM, {"name": "x", "unit_cost": "abc"}, 400, "invalid_request", "unit_cost"),
    ("PUT", ITEM, {"name": "x", "unit_cost": "-1"}, 400, "invalid_request", "unit_cost"),
    ("PUT", ITEM, {"name": "x", "unit_cost": -0.5}, 400, "invalid_request", "unit_cost"),
    ("PUT", ITEM, {"name": "x", "unit_cost": "1.23456"}, 400, "invalid_request", "unit_cost"),
    ("PUT", ITEM, {"name": "x", "unit_cost": "NaN"}, 400, "invalid_request", "unit_cost"),
    ("PUT", ITEM, {"name": "x", "unit_cost": "Infinity"}, 400, "invalid_request", "unit_cost"),
    ("PUT", ITEM, {"name": "x", "unit_cost": 1e20}, 400, "invalid_request", "unit_cost"),
    ("PUT", ITEM, {"name": "x", "unit_cost": True}, 400, "invalid_request", "unit_cost"),
    ("PUT", ITEM, {"name": "x", "unit_cost": None}, 400, "invalid_request", "unit_cost"),
    ("PUT", ITEM, {"name": "x", "active": "yes"}, 400, "invalid_request", "active"),
    ("PUT", ITEM, {"name": "x", "unit": ""}, 400, "invalid_request", "unit"),
    ("PUT", NEW_ITEM, {"name": "x", "unit_cost": "12,50"}, 400, "invalid_request", "unit_cost"),
    ("PUT", NEW_ITEM, {"name": "x", "reorder_point": -5}, 400, "invalid_request", "reorder_point"),
    ("PUT", NEW_ITEM, ["x"], 400, "invalid_request", None),
    # locations
    ("PUT", LOCATION, {}, 400, "invalid_request", "name"),
    ("PUT", LOCATION, {"name": ""}, 400, "invalid_request", "name"),
    ("PUT", LOCATION, {"name": 5}, 400, "invalid_request", "name"),
    ("PUT", LOCATION, {"name": "x", "city": "Ghent"}, 400, "invalid_request", "city"),
    ("PUT", NEW_LOCATION, {"name": None}, 400, "invalid_request", "name"),
    # codes in URLs that cannot name an item or location
    ("PUT", "/stock/bad%20sku", {"name": "x"}, 404, "not_found", None),
    ("PUT", "/stock/-A", {"name": "x"}, 404, "not_found", None),
    ("PUT", "/stock/" + "S" * 65, {"name": "x"}, 404, "not_found", None),
    ("PUT", "/stock/A%2A1", {"name": "x"}, 404, "not_found", None),
    ("PUT", "/locations/bad%20code", {"name": "x"}, 404, "not_found", None),
    ("PUT", "/locations/" + "L" * 65, {"name": "x"}, 404, "not_found", None),
    ("POST", "/locations/bad%20code/A-1/movements", receipt(), 404, "not_found", None),
    ("POST", "/locations/WH1/bad%20sku/movements", receipt(), 404, "not_found", None),
    ("POST", "/locations/WH1/.A/reservations", reservation(), 404, "not_found", None),
    ("POST", "/stock/bad%20sku/transfers", transfer(), 404, "not_found", None),
    # unknown (but well-formed) item or location
    ("POST", "/locations/WH1/NOPE-1/movements", receipt(), 404, "not_found", None),
    ("POST", "/locations/NOPE/A-1/reservations", reservation(), 404, "not_found", None),
    ("POST", TRANSFERS, transfer(to="NOPE"), 404, "not_found", None),
    # reservations that do not exist or cannot exist
    ("POST", "/reservations/" + "0" * 32 + "/confirm", None, 404, "not_found", None),
    ("POST", "/reservations/" + "0" * 32 + "/release", None, 404, "not_found", None),
    ("POST", "/reservations/not-an-id/confirm", None, 404, "not_found", None),
]

WRITE_URLS = [
    ("POST", MOVEMENTS),
    ("POST", RESERVATIONS),
    ("POST", TRANSFERS),
    ("PUT", ITEM),
    ("PUT", NEW_ITEM),
    ("PUT", LOCATION),
    ("PUT", NEW_LOCATION),
]

VALID = {
    MOVEMENTS: receipt(),
    RESERVATIONS: reservation(),
    TRANSFERS: transfer(),
    ITEM: {"name": "x"},
    NEW_ITEM: {"name": "x"},
    LOCATION: {"name": "x"},
    NEW_LOCATION: {"name": "x"},
}


@pytest.fixture
def world(boss: Any, plinth_engine: Any) -> Any:
    """WH1 and WH2; A-1 with 10 on hand at WH1 and 2 of them reserved."""
    put_location(boss, "WH1")
    put_location(boss, "WH2")
    put_item(boss, "A-1", unit_cost="1.5000", reorder_point=3)
    move(boss, "WH1", "A-1", "receipt", 10)
    reserve(boss, "WH1", "A-1", 2)
    return snapshot(plinth_engine)


def assert_unchanged(boss: Any, plinth_engine: Any, before: dict[str, Any]) -> None:
    assert snapshot(plinth_engine) == before
    assert level(boss, "A-1", "WH1") == {"on_hand": 10, "reserved": 2, "available": 8}
    assert len(boss.get(MOVEMENTS).json["items"]) == 1


def _id(case: tuple[Any, ...]) -> str:
    method, url, body, status = case[:4]
    return f"{method} {url[:40]} {json.dumps(body)[:60]} -> {status}"


@pytest.mark.parametrize(
    ("method", "url", "body", "status", "error", "field"),
    JSON_CASES,
    ids=[_id(c) for c in JSON_CASES],
)
def test_bad_json_request(
    boss: Any,
    plinth_engine: Any,
    world: Any,
    method: str,
    url: str,
    body: Any,
    status: int,
    error: str | None,
    field: str | None,
) -> None:
    # confirm and release take no body; every other case sends its JSON (None is null)
    payload = b"" if url.endswith(("/confirm", "/release")) else json.dumps(body).encode()
    response = boss.request(
        url, method=method, body=payload, headers={"Content-Type": JSON}, expect_errors=True
    )
    problem = assert_error(response, status, error)
    if field is not None:
        fields = [e.get("field") for e in problem["details"]["errors"]]
        assert field in fields, problem
    assert_unchanged(boss, plinth_engine, world)


@pytest.mark.parametrize(("method", "url"), WRITE_URLS)
@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "application/xml", None]
)
def test_wrong_content_type_is_415(
    boss: Any, plinth_engine: Any, world: Any, method: str, url: str, content_type: str | None
) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    response = boss.request(
        url,
        method=method,
        body=json.dumps(VALID[url]).encode(),
        headers=headers,
        expect_errors=True,
    )
    assert_error(response, 415)
    assert_unchanged(boss, plinth_engine, world)


@pytest.mark.parametrize(("method", "url"), WRITE_URLS)
@pytest.mark.parametrize(
    "raw", [b"{", b"{'kind': 'receipt'}", b"", b"\xff\xfe{}", b'{"quantity": 1,}', b"NaN"]
)
def test_invalid_json_is_400(
    boss: Any, plinth_engine: Any, world: Any, method: str, url: str, raw: bytes
) -> None:
    response = boss.request(
        url, method=method, body=raw, headers={"Content-Type": JSON}, expect_errors=True
    )
    assert_error(response, 400)
    assert_unchanged(boss, plinth_engine, world)


@pytest.mark.parametrize(("method", "url"), WRITE_URLS)
def test_body_too_large_is_413(
    boss: Any, plinth_engine: Any, world: Any, method: str, url: str
) -> None:
    body = dict(VALID[url])
    body["reference" if method == "POST" else "name"] = "x" * (2 * 1024 * 1024)
    response = boss.request(
        url,
        method=method,
        body=json.dumps(body).encode(),
        headers={"Content-Type": JSON},
        expect_errors=True,
    )
    assert_error(response, 413, "payload_too_large")
    assert_unchanged(boss, plinth_engine, world)


def test_valid_bodies_of_the_table_do_work(boss: Any, world: Any) -> None:
    """The fixture and the valid bodies are right: only the mistakes are refused."""
    for method, url in WRITE_URLS:
        boss.request(
            url,
            method=method,
            body=json.dumps(VALID[url]).encode(),
            headers={"Content-Type": JSON},
            status=(200, 201),
        )
    assert level(boss, "A-1", "WH1") == {"on_hand": 10, "reserved": 3, "available": 7}
    assert level(boss, "A-1", "WH2")["on_hand"] == 1


def test_a_default_reservation_ttl_above_the_cap_stops_start_up(
    plinth_settings: dict[str, Any],
) -> None:
    from plinth.api import SettingError, make_app

    with pytest.raises(SettingError, match=r"'stock\.reservation_ttl'"):
        make_app(
            {**plinth_settings, "stock.reservation_ttl": "700", "stock.max_reservation_ttl": "600"}
        )
