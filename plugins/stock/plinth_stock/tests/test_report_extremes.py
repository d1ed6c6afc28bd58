"""Every report at the largest values the API accepts: quantities of 2^31 - 1,
a reorder point of 2^31 - 1, the largest unit cost, and movements whose sums
pass 2^31 (beyond PostgreSQL's INTEGER).  No 500, and the right figures: exact
on PostgreSQL; on SQLite, which computes NUMERIC as binary floats, to 15
significant digits."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from plinth_stock.services import MAX_COST, MAX_QUANTITY

from .helpers import move, put_item, put_location

MAX = MAX_QUANTITY
COST = MAX_COST
CENT = Decimal("0.0001")


@pytest.fixture
def extremes(boss: Any) -> None:
    """BIG-1: MAX at L1 after churning (3 x MAX in, 2 x MAX out), MAX at L2, and
    MAX in and out again at L3 (an adjustment of -MAX); LOW-1: nothing, reorder
    point MAX; MID-1: MAX at L2, reorder point MAX.  Every cost is the largest."""
    for code in ("L1", "L2", "L3"):
        put_location(boss, code)
    for sku in ("BIG-1", "LOW-1", "MID-1"):
        put_item(boss, sku, reorder_point=MAX, unit_cost=str(COST))
    for kind in ("receipt", "issue", "receipt", "issue", "receipt"):
        move(boss, "L1", "BIG-1", kind, MAX)
    move(boss, "L2", "BIG-1", "receipt", MAX)
    move(boss, "L3", "BIG-1", "adjustment", MAX, reason="found")
    move(boss, "L3", "BIG-1", "adjustment", -MAX, reason="-lost")
    move(boss, "L2", "MID-1", "receipt", MAX)


def money_is(dialect: str, text: str | None, exact: Decimal) -> None:
    assert text is not None
    if dialect == "sqlite":
        assert abs(Decimal(text) - exact) <= abs(exact) * Decimal("1e-15") + CENT, (text, exact)
    else:
        assert text == str(exact.quantize(CENT)), (text, exact)


def report(app: Any, name: str, query: str = "") -> list[dict[str, Any]]:
    """The report's rows as JSON, checked against its CSV (same rows, no error)."""
    rows = app.get(f"/reports/{name}?format=json{query}").json["rows"]
    text = app.get(f"/reports/{name}?format=csv{query}").body.decode("utf-8")
    parsed = list(csv.DictReader(io.StringIO(text, newline="")))
    assert len(parsed) == len(rows)
    for line, row in zip(parsed, rows, strict=True):
        for key, value in row.items():
            if isinstance(value, int):
                assert line[key] == str(value)
    return rows


@pytest.fixture
def dialect(plinth_engine: Any) -> str:
    return str(plinth_engine.dialect.name)


def test_low_stock_at_the_largest_reorder_point(boss: Any, extremes: None, dialect: str) -> None:
    rows = {row["sku"]: row for row in report(boss, "low-stock")}
    assert set(rows) == {"LOW-1", "MID-1"}
    low, mid = rows["LOW-1"], rows["MID-1"]
    assert (
        low["reorder_point"],
        low["available"],
        low["shortfall"],
        low["suggested_quantity"],
    ) == (MAX, 0, MAX, 2 * MAX)
    money_is(dialect, low["suggested_cost"], 2 * MAX * COST)
    assert (mid["available"], mid["shortfall"], mid["suggested_quantity"]) == (MAX, 0, MAX)
    money_is(dialect, mid["suggested_cost"], MAX * COST)


@pytest.mark.parametrize("as_of", ["", "&as_of=" + datetime.now(UTC).date().isoformat()])
def test_stock_on_hand_at_the_largest_values(
    boss: Any, extremes: None, dialect: str, as_of: str
) -> None:
    rows = {(row["sku"], row["location"]): row for row in report(boss, "stock-on-hand", as_of)}
    assert set(rows) == {("BIG-1", "L1"), ("BIG-1", "L2"), ("MID-1", "L2")}
    for row in rows.values():
        assert (row["on_hand"], row["available"]) == (MAX, MAX)
        money_is(dialect, row["value"], MAX * COST)


@pytest.mark.parametrize("as_of", ["", "?as_of=" + datetime.now(UTC).date().isoformat()])
def test_valuation_totals_past_two_to_the_31(
    boss: Any, extremes: None, dialect: str, as_of: str
) -> None:
    rows = report(boss, "valuation", as_of.replace("?", "&"))
    total = rows[-1]
    assert total["line"] == "total" and total["on_hand"] == 3 * MAX
    money_is(dialect, total["value"], 3 * MAX * COST)
    boss.get(f"/reports/valuation?format=svg{as_of.replace('?', '&')}", status=200)


def test_movement_balances_at_the_largest_quantities(boss: Any, extremes: None) -> None:
    rows = report(boss, "movements", "&sku=BIG-1")
    assert [(r["location"], r["quantity"], r["balance"]) for r in rows] == [
        ("L1", MAX, MAX),
        ("L1", -MAX, 0),
        ("L1", MAX, MAX),
        ("L1", -MAX, 0),
        ("L1", MAX, MAX),
        ("L2", MAX, MAX),
        ("L3", MAX, MAX),
        ("L3", -MAX, 0),
    ]


@pytest.mark.parametrize("period", ["day", "week", "month"])
def test_stock_balance_sums_past_two_to_the_31(boss: Any, extremes: None, period: str) -> None:
    rows = {
        (r["sku"], r["location"]): r for r in report(boss, "stock-balance", f"&period={period}")
    }
    l1 = rows[("BIG-1", "L1")]
    assert (l1["opening"], l1["in"], l1["out"], l1["closing"]) == (0, 3 * MAX, 2 * MAX, MAX)
    l3 = rows[("BIG-1", "L3")]
    assert (l3["in"], l3["out"], l3["closing"]) == (MAX, MAX, 0)
    svg = boss.get(f"/reports/stock-balance?format=svg&period={period}", status=200)
    assert svg.content_type == "image/svg+xml"
