"""Helpers shared by the stock plugin's tests (plain functions; fixtures are in conftest)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

ERROR_KEYS = {"status", "error", "message", "details"}


def put_location(app: Any, code: str, name: str | None = None, status: int = 201) -> Any:
    return app.put_json(f"/locations/{code}", {"name": name or f"Location {code}"}, status=status)


def put_item(app: Any, sku: str, status: int = 201, **fields: Any) -> Any:
    body = {"name": f"Item {sku}", **fields}
    return app.put_json(f"/stock/{sku}", body, status=status)


def move(
    app: Any,
    code: str,
    sku: str,
    kind: str,
    quantity: int,
    status: int = 201,
    headers: dict[str, str] | None = None,
    **fields: Any,
) -> Any:
    return app.post_json(
        f"/locations/{code}/{sku}/movements",
        {"kind": kind, "quantity": quantity, **fields},
        status=status,
        headers=headers,
    )


def reserve(
    app: Any,
    code: str,
    sku: str,
    quantity: int,
    status: int = 201,
    reference: str = "order-1",
    headers: dict[str, str] | None = None,
    **fields: Any,
) -> Any:
    return app.post_json(
        f"/locations/{code}/{sku}/reservations",
        {"quantity": quantity, "reference": reference, **fields},
        status=status,
        headers=headers,
    )


def stocked(app: Any, sku: str = "A-1", code: str = "WH1", quantity: int = 10) -> None:
    """Create location ``code`` (if needed), item ``sku`` and receive ``quantity``."""
    if app.get(f"/locations/{code}", status=(200, 404)).status_int == 404:
        put_location(app, code)
    if app.get(f"/stock/{sku}", status=(200, 404)).status_int == 404:
        put_item(app, sku)
    if quantity:
        move(app, code, sku, "receipt", quantity)


def level(app: Any, sku: str, code: str) -> dict[str, int]:
    """The level of ``sku`` at ``code`` as GET /stock/{sku} shows it (zeros if none)."""
    for row in app.get(f"/stock/{sku}").json["locations"]:
        if row["location"] == code:
            return {k: row[k] for k in ("on_hand", "reserved", "available")}
    return {"on_hand": 0, "reserved": 0, "available": 0}


def movements(app: Any, code: str, sku: str) -> list[dict[str, Any]]:
    return app.get(f"/locations/{code}/{sku}/movements?limit=500").json["items"]


def count_rows(engine: Any, table: str) -> int:
    with engine.connect() as connection:
        return connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()


def snapshot(engine: Any) -> dict[str, Any]:
    """Everything a stock request could change, read straight from the database."""
    with engine.connect() as connection:
        return {
            "levels": sorted(
                connection.execute(
                    text("SELECT item_id, location_id, on_hand, reserved FROM stock_levels")
                ).all()
            ),
            "movements": connection.execute(
                text("SELECT count(*) FROM stock_movements")
            ).scalar_one(),
            "reservations": sorted(
                connection.execute(
                    text("SELECT id, status, quantity FROM stock_reservations")
                ).all()
            ),
            "items": sorted(
                connection.execute(
                    text("SELECT sku, name, version, unit_cost, reorder_point FROM stock_items")
                ).all()
            ),
            "locations": sorted(
                connection.execute(text("SELECT code, name, version FROM stock_locations")).all()
            ),
        }


def assert_error(response: Any, status: int, error: str | None = None) -> dict[str, Any]:
    """The response is the JSON error shape with ``status`` (and code ``error``)."""
    assert response.status_int == status, response.text
    assert response.content_type == "application/json"
    body = response.json
    assert set(body) == ERROR_KEYS, body
    assert body["status"] == status
    assert isinstance(body["message"], str) and body["message"]
    assert isinstance(body["details"], dict)
    if error is not None:
        assert body["error"] == error, body
    return body
