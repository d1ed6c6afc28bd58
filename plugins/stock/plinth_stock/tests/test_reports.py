"""Stock's reports, checked row by row.

The fixture is built through the HTTP API (locations, items, receipts, issues,
adjustments, transfers, reservations confirmed, released, expired and still
held), then its ledger and reservations are spread over January to April 2024
by UPDATE-ing their timestamps, in posting order so that ids and times agree.
Every expected row is computed here, in Python, from the ledger and the
reservations read back with plain SQL; a few boundary values are also written
out by hand, so that the model itself is checked.

Reports read through their own connection: everything is committed first.
"""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from itertools import accumulate
from typing import Any

import pytest
from sqlalchemy import insert, select, update

from plinth.api import IReadEngine, get_service
from plinth_stock.models import Item, Location, Movement, Reservation, StockLevel

from .helpers import assert_error, move, put_item, put_location, reserve

movements_table = Movement.__table__
reservations_table = Reservation.__table__
items_table = Item.__table__
locations_table = Location.__table__
levels_table = StockLevel.__table__

HEADERS = {
    "stock-on-hand": "sku,name,location,on_hand,reserved,available,unit_cost,value",
    "low-stock": "sku,name,reorder_point,on_hand,reserved,available,shortfall,"
    "suggested_quantity,unit_cost,suggested_cost",
    "movements": "id,created_at,sku,name,location,kind,quantity,balance,reference,reason,actor",
    "stock-balance": "period,sku,name,location,opening,in,out,closing",
    "valuation": "line,sku,name,location,on_hand,unit_cost,value",
}
REPORTS = list(HEADERS)
CENT = Decimal("0.0001")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def money(value: Decimal) -> str:
    return str(Decimal(value).quantize(CENT))


# The fixture -------------------------------------------------------------------------

# sku: (name, reorder point, unit cost, active)
ITEMS = {
    "A-1": ("Anchor bolt", 80, "2.5000", True),
    "B-2": ("Bracket, steel", 22, "0.1000", True),  # available will be exactly 22
    "C-3": ('Cable tie "small"', 0, "0.3333", True),
    "D-4": ("Dowel", 3, "7.2500", True),  # never stocked: low
    "E-5": ("Elbow", 10, "1.0000", False),  # inactive: never low
}
LOCATIONS = ("WH1", "WH2", "WH3")

# (when, action, arguments); posted in this order, then dated ``when``.
#   move: location, sku, kind, quantity, extra fields
#   transfer: sku, from, to, quantity, reference
#   reserve: label, location, sku, quantity, reference, expires_at ("future": tomorrow)
#   confirm / release: label
STEPS: list[tuple[str, str, tuple[Any, ...]]] = [
    ("2024-01-30 09:00:00", "move", ("WH1", "A-1", "receipt", 100, {"reference": "PO-1"})),
    # the last second of January, of a Wednesday
    ("2024-01-31 23:59:59", "move", ("WH1", "B-2", "receipt", 30, {"reference": "PO-2"})),
    # the first second of February
    ("2024-02-01 00:00:00", "move", ("WH1", "A-1", "issue", 10, {"reference": "SO-1"})),
    # a Sunday: the week that began on Monday 29 January
    ("2024-02-04 12:00:00", "transfer", ("A-1", "WH1", "WH2", 25, "TR-1")),
    # Monday 00:00: a new week
    ("2024-02-05 00:00:00", "move", ("WH2", "A-1", "issue", 5, {"reference": "SO-2"})),
    ("2024-02-08 10:00:00", "reserve", ("R1", "WH1", "A-1", 4, "SO-3", "2024-02-15 10:00:00")),
    ("2024-02-09 08:00:00", "reserve", ("R2", "WH2", "A-1", 2, "SO-4", "2024-02-23 08:00:00")),
    # expires at noon on the 10th; released lazily, by the issue posted today
    ("2024-02-09 09:00:00", "reserve", ("R3", "WH1", "B-2", 5, "SO-5", "2024-02-10 12:00:00")),
    ("2024-02-10 23:59:59", "move", ("WH1", "B-2", "adjustment", -3, {"reason": "count"})),
    ("2024-02-11 00:00:00", "move", ("WH1", "B-2", "adjustment", 1, {"reason": "found"})),
    # confirmed at the first instant of the 12th: on the 11th it was still held
    ("2024-02-12 00:00:00", "confirm", ("R1",)),
    ("2024-02-20 12:00:00", "release", ("R2",)),
    ("2024-02-27 15:00:00", "move", ("WH2", "A-1", "adjustment", -1, {"reason": "damaged"})),
    ("2024-03-01 08:00:00", "reserve", ("R4", "WH1", "A-1", 6, "SO-6", "future")),
    ("2024-03-15 10:00:00", "move", ("WH2", "C-3", "receipt", 7, {"reference": "PO-3"})),
    ("2024-03-15 11:00:00", "move", ("WH1", "C-3", "receipt", 3, {"reference": "PO-4"})),
    ("2024-03-15 12:00:00", "move", ("WH1", "C-3", "issue", 3, {"reference": "SO-10"})),
    # expired on the 17th and never released: still counted in stock_levels.reserved
    ("2024-03-16 10:00:00", "reserve", ("R5", "WH2", "C-3", 1, "SO-7", "2024-03-17 10:00:00")),
    ("2024-03-31 23:59:59", "transfer", ("B-2", "WH1", "WH2", 10, "TR-2")),
    ("2024-04-01 00:00:00", "move", ("WH2", "B-2", "issue", 4, {"reference": "SO-8"})),
]


@dataclass
class Stock:
    """What the database holds after the fixture, read back with plain SQL."""

    ledger: list[dict[str, Any]]
    reservations: list[dict[str, Any]]
    items: dict[str, dict[str, Any]]
    ids: dict[str, str] = field(default_factory=dict)


def build(boss: Any, engine: Any) -> Stock:
    for code in LOCATIONS:
        put_location(boss, code)
    for sku, (name, reorder_point, cost, active) in ITEMS.items():
        put_item(boss, sku, name=name, reorder_point=reorder_point, unit_cost=cost, active=active)
    tomorrow = datetime.now(UTC) + timedelta(days=1)
    movement_times: list[datetime] = []
    reservation_times: dict[str, dict[str, datetime]] = {}
    ids: dict[str, str] = {}
    for when_text, action, args in STEPS:
        when = at(when_text)
        if action == "move":
            code, sku, kind, quantity, extra = args
            move(boss, code, sku, kind, quantity, **extra)
            movement_times.append(when)
        elif action == "transfer":
            sku, source, target, quantity, reference = args
            boss.post_json(
                f"/stock/{sku}/transfers",
                {"from": source, "to": target, "quantity": quantity, "reference": reference},
                status=201,
            )
            movement_times += [when, when]
        elif action == "reserve":
            label, code, sku, quantity, reference, expires = args
            rid = reserve(boss, code, sku, quantity, reference=reference).json["id"]
            ids[label] = rid
            reservation_times[rid] = {
                "created_at": when,
                "updated_at": when,
                "expires_at": tomorrow if expires == "future" else at(expires),
            }
        else:
            rid = ids[args[0]]
            boss.post(f"/reservations/{rid}/{action}", status=200)
            reservation_times[rid]["updated_at"] = when
            if action == "confirm":
                movement_times.append(when)
    m, r = movements_table, reservations_table
    with engine.begin() as connection:
        movement_ids = connection.execute(select(m.c.id).order_by(m.c.id)).scalars().all()
        assert len(movement_ids) == len(movement_times)
        for movement_id, when in zip(movement_ids, movement_times, strict=True):
            connection.execute(update(m).where(m.c.id == movement_id).values(created_at=when))
        for rid, values in reservation_times.items():
            connection.execute(update(r).where(r.c.id == rid).values(**values))
    # Today: an issue at WH1 releases the expired R3 on its way (status 'expired').
    move(boss, "WH1", "B-2", "issue", 2, reference="SO-9")
    stock = read_back(engine)
    stock.ids = ids
    return stock


def read_back(engine: Any) -> Stock:
    m, r, i, loc = movements_table, reservations_table, items_table, locations_table
    with engine.connect() as connection:
        ledger = [
            row._asdict()
            for row in connection.execute(
                select(
                    m.c.id,
                    m.c.created_at,
                    i.c.sku,
                    i.c.name,
                    loc.c.code.label("location"),
                    m.c.kind,
                    m.c.quantity,
                    m.c.reference,
                    m.c.reason,
                    m.c.actor,
                )
                .join(i, i.c.id == m.c.item_id)
                .join(loc, loc.c.id == m.c.location_id)
                .order_by(m.c.id)
            )
        ]
        reservations = [
            row._asdict()
            for row in connection.execute(
                select(
                    r.c.id,
                    r.c.quantity,
                    r.c.status,
                    r.c.created_at,
                    r.c.updated_at,
                    r.c.expires_at,
                    i.c.sku,
                    loc.c.code.label("location"),
                )
                .join(i, i.c.id == r.c.item_id)
                .join(loc, loc.c.id == r.c.location_id)
            )
        ]
        items = {row.sku: row._asdict() for row in connection.execute(select(items_table))}
        levels = {
            (row.sku, row.code): (row.on_hand, row.reserved)
            for row in connection.execute(
                select(i.c.sku, loc.c.code, levels_table.c.on_hand, levels_table.c.reserved)
                .join(i, i.c.id == levels_table.c.item_id)
                .join(loc, loc.c.id == levels_table.c.location_id)
            )
        }
    stock = Stock(ledger, reservations, items)
    # The fixture is what it should be: on hand = the ledger; R5 still counted.
    assert {pair: held[0] for pair, held in levels.items()} == on_hand_at(stock, None)
    assert levels[("C-3", "WH2")] == (7, 1)
    return stock


# The model: what each report should say, from the rows read back ----------------


def on_hand_at(stock: Stock, moment: datetime | None) -> dict[tuple[str, str], int]:
    """On hand per (sku, location) from the ledger before ``moment`` (all if None)."""
    totals: dict[tuple[str, str], int] = defaultdict(int)
    for line in stock.ledger:
        if moment is None or line["created_at"] < moment:
            totals[(line["sku"], line["location"])] += line["quantity"]
    return dict(totals)


def held(reservation: dict[str, Any], moment: datetime) -> bool:
    """Whether ``reservation`` held its quantity at ``moment``.

    Not yet if created at or after it; no longer once expired (expires_at <=
    moment, the services' rule) or confirmed / released before it.  An end
    recorded at ``moment`` itself has not happened yet, just as a movement
    at ``moment`` is not in the ledger yet.
    """
    if reservation["created_at"] >= moment or reservation["expires_at"] <= moment:
        return False
    ended = reservation["status"] in ("confirmed", "released")
    return not (ended and reservation["updated_at"] < moment)


def reserved_at(stock: Stock, moment: datetime) -> dict[tuple[str, str], int]:
    totals: dict[tuple[str, str], int] = defaultdict(int)
    for reservation in stock.reservations:
        if held(reservation, moment):
            totals[(reservation["sku"], reservation["location"])] += reservation["quantity"]
    return dict(totals)


def moment_of(as_of: date | None) -> datetime:
    """The end of UTC day ``as_of``, or now if that is earlier (or no day is given)."""
    now = datetime.now(UTC)
    if as_of is None or as_of >= now.date():
        return now
    return datetime(as_of.year, as_of.month, as_of.day, tzinfo=UTC) + timedelta(days=1)


def expected_on_hand(
    stock: Stock,
    as_of: date | None = None,
    sku: str | None = None,
    location: str | None = None,
    include_zero: bool = False,
) -> list[dict[str, Any]]:
    moment = moment_of(as_of)
    on_hand = on_hand_at(stock, None if as_of is None else moment)
    reserved = reserved_at(stock, moment)
    rows = []
    for (item, code), quantity in sorted(on_hand.items()):
        held_quantity = reserved.get((item, code), 0)
        if (sku and item != sku) or (location and code != location):
            continue
        if not include_zero and quantity == 0 and held_quantity == 0:
            continue
        cost = stock.items[item]["unit_cost"]
        rows.append(
            {
                "sku": item,
                "name": stock.items[item]["name"],
                "location": code,
                "on_hand": quantity,
                "reserved": held_quantity,
                "available": quantity - held_quantity,
                "unit_cost": money(cost),
                "value": money(quantity * cost),
            }
        )
    return rows


def expected_low_stock(stock: Stock, sku: str | None = None) -> list[dict[str, Any]]:
    now = datetime.now(UTC)
    on_hand, reserved = on_hand_at(stock, None), reserved_at(stock, now)
    rows = []
    for item, row in sorted(stock.items.items()):
        if not row["active"] or (sku and item != sku):
            continue
        total = sum(q for (s, _), q in on_hand.items() if s == item)
        held_quantity = sum(q for (s, _), q in reserved.items() if s == item)
        available = total - held_quantity
        if available > row["reorder_point"]:
            continue
        suggested = 2 * row["reorder_point"] - available
        rows.append(
            {
                "sku": item,
                "name": row["name"],
                "reorder_point": row["reorder_point"],
                "on_hand": total,
                "reserved": held_quantity,
                "available": available,
                "shortfall": row["reorder_point"] - available,
                "suggested_quantity": suggested,
                "unit_cost": money(row["unit_cost"]),
                "suggested_cost": money(suggested * row["unit_cost"]),
            }
        )
    return rows


def expected_movements(stock: Stock, **filters: Any) -> list[dict[str, Any]]:
    balances: dict[tuple[str, str], int] = defaultdict(int)
    rows = []
    for line in stock.ledger:  # id order: the balance counts the whole history
        pair = (line["sku"], line["location"])
        balances[pair] += line["quantity"]
        rows.append(
            {
                "id": line["id"],
                "created_at": line["created_at"].isoformat(),
                "sku": line["sku"],
                "name": line["name"],
                "location": line["location"],
                "kind": line["kind"],
                "quantity": line["quantity"],
                "balance": balances[pair],
                "reference": line["reference"],
                "reason": line["reason"],
                "actor": line["actor"],
            }
        )
    start = filters.get("date_from")
    end = filters.get("date_to")

    def keep(row: dict[str, Any]) -> bool:
        day = datetime.fromisoformat(row["created_at"]).date()
        return (
            all(filters.get(k) in (None, row[k]) for k in ("sku", "location", "kind", "reference"))
            and (start is None or day >= start)
            and (end is None or day <= end)
        )

    return sorted(filter(keep, rows), key=lambda r: (r["sku"], r["location"], r["id"]))


def period_of(day: date, period: str) -> date:
    if period == "day":
        return day
    if period == "week":
        return day - timedelta(days=day.weekday())
    return day.replace(day=1)


def next_period(start: date, period: str) -> date:
    if period == "day":
        return start + timedelta(days=1)
    if period == "week":
        return start + timedelta(days=7)
    return date(start.year + start.month // 12, start.month % 12 + 1, 1)


def expected_balance(
    stock: Stock,
    period: str = "month",
    date_from: date | None = None,
    date_to: date | None = None,
    sku: str | None = None,
    location: str | None = None,
) -> list[dict[str, Any]]:
    start = period_of(date_from, period) if date_from else None
    end = next_period(period_of(date_to, period), period) if date_to else None
    moved: dict[tuple[date, str, str], list[int]] = defaultdict(list)
    for line in stock.ledger:
        day = line["created_at"].date()
        if (sku and line["sku"] != sku) or (location and line["location"] != location):
            continue
        if (start and day < start) or (end and day >= end):
            continue
        moved[(period_of(day, period), line["sku"], line["location"])].append(line["quantity"])
    rows = []
    for (first, item, code), quantities in sorted(moved.items()):
        opening = sum(
            line["quantity"]
            for line in stock.ledger
            if (line["sku"], line["location"]) == (item, code) and line["created_at"].date() < first
        )
        quantity_in = sum(q for q in quantities if q > 0)
        quantity_out = -sum(q for q in quantities if q < 0)
        rows.append(
            {
                "period": first.isoformat(),
                "sku": item,
                "name": stock.items[item]["name"],
                "location": code,
                "opening": opening,
                "in": quantity_in,
                "out": quantity_out,
                "closing": opening + quantity_in - quantity_out,
            }
        )
    return rows


def expected_valuation(
    stock: Stock, as_of: date | None = None, location: str | None = None
) -> list[dict[str, Any]]:
    on_hand = on_hand_at(stock, None if as_of is None else moment_of(as_of))
    rows = []
    for (item, code), quantity in sorted(on_hand.items()):
        if quantity == 0 or (location and code != location):
            continue
        cost = stock.items[item]["unit_cost"]
        rows.append(
            {
                "line": "item",
                "sku": item,
                "name": stock.items[item]["name"],
                "location": code,
                "on_hand": quantity,
                "unit_cost": money(cost),
                "value": money(quantity * cost),
            }
        )
    rows.append(
        {
            "line": "total",
            "sku": None,
            "name": None,
            "location": None,
            "on_hand": sum(r["on_hand"] for r in rows),
            "unit_cost": None,
            "value": money(sum((Decimal(r["value"]) for r in rows), Decimal(0))),
        }
    )
    return rows


# Running a report ----------------------------------------------------------------


def query_string(params: dict[str, Any]) -> str:
    return "&".join(f"{k}={v}" for k, v in params.items() if v is not None)


def run(app: Any, name: str, **params: Any) -> list[dict[str, Any]]:
    """The report's JSON rows, after checking that its CSV says exactly the same."""
    query = query_string(params)
    body = app.get(f"/reports/{name}?{query}").json
    assert body["report"] == name
    assert [c["name"] for c in body["columns"]] == HEADERS[name].split(",")
    assert body["row_count"] == len(body["rows"])
    for key, value in params.items():  # the parameters, as understood, are echoed
        echo = (
            {"true": True, "false": False}.get(value, value)
            if isinstance(value, str)
            else str(value)
            if isinstance(value, date)
            else value
        )
        assert body["parameters"][key] == echo, key
    generated = datetime.fromisoformat(body["generated_at"])
    assert abs(generated - datetime.now(UTC)) < timedelta(minutes=1)

    before = datetime.now(UTC).date()
    response = app.get(f"/reports/{name}?{query}&format=csv")
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    # named after the UTC day (either side of a midnight passing meanwhile)
    assert response.headers["Content-Disposition"] in {
        f'attachment; filename="{name}-{day.isoformat()}.csv"'
        for day in (before, datetime.now(UTC).date())
    }
    text = response.body.decode("utf-8")
    assert text.startswith(HEADERS[name] + "\r\n")
    parsed = list(csv.DictReader(io.StringIO(text, newline="")))
    assert parsed == [
        {k: "" if v is None else str(v) for k, v in row.items()} for row in body["rows"]
    ]
    return body["rows"]


@pytest.fixture
def boss(as_principal: Any) -> Any:
    return as_principal("user:boss", "group:admins")


@pytest.fixture
def stock(boss: Any, plinth_engine: Any) -> Stock:
    return build(boss, plinth_engine)


def pick(rows: list[dict[str, Any]], *keys: str) -> list[tuple[Any, ...]]:
    return [tuple(row[k] for k in keys) for row in rows]


# stock-on-hand ----------------------------------------------------------------------


def test_stock_on_hand_now(boss: Any, stock: Stock) -> None:
    rows = run(boss, "stock-on-hand")
    assert rows == expected_on_hand(stock)
    assert pick(rows, "sku", "location", "on_hand", "reserved", "available", "value") == [
        ("A-1", "WH1", 61, 6, 55, "152.5000"),
        ("A-1", "WH2", 19, 0, 19, "47.5000"),
        ("B-2", "WH1", 16, 0, 16, "1.6000"),
        ("B-2", "WH2", 6, 0, 6, "0.6000"),
        # R5 expired unreleased: not reserved, as GET /stock/C-3 says
        ("C-3", "WH2", 7, 0, 7, "2.3331"),
    ]
    assert boss.get("/stock/C-3").json["locations"] == [
        {"location": "WH1", "on_hand": 0, "reserved": 0, "available": 0},
        {"location": "WH2", "on_hand": 7, "reserved": 0, "available": 7},
    ]
    # the emptied level shows with include_zero only
    with_zero = run(boss, "stock-on-hand", include_zero="true")
    assert with_zero == expected_on_hand(stock, include_zero=True)
    assert ("C-3", "WH1", 0) in pick(with_zero, "sku", "location", "on_hand")
    assert run(boss, "stock-on-hand", sku="A-1") == expected_on_hand(stock, sku="A-1")
    assert run(boss, "stock-on-hand", location="WH2") == expected_on_hand(stock, location="WH2")
    assert run(
        boss, "stock-on-hand", sku="C-3", location="WH1", include_zero="true"
    ) == expected_on_hand(stock, sku="C-3", location="WH1", include_zero=True)
    assert run(boss, "stock-on-hand", sku="NOPE") == []
    assert run(boss, "stock-on-hand", location="WH3") == []
    # empty values are absent, as a form sends them
    assert boss.get("/reports/stock-on-hand?sku=&location=&as_of=").json["rows"] == rows


AS_OF_DAYS = [
    "2024-01-29",
    "2024-01-30",
    "2024-01-31",
    "2024-02-01",
    "2024-02-04",
    "2024-02-08",
    "2024-02-09",
    "2024-02-10",
    "2024-02-11",
    "2024-02-12",
    "2024-02-20",
    "2024-02-29",
    "2024-03-16",
    "2024-03-17",
    "2024-03-31",
    "2024-04-01",
]


def test_stock_on_hand_as_of_past_days(boss: Any, stock: Stock) -> None:
    for text in AS_OF_DAYS:
        day = date.fromisoformat(text)
        assert run(boss, "stock-on-hand", as_of=day) == expected_on_hand(stock, day), text
    assert run(
        boss, "stock-on-hand", as_of=date(2024, 3, 31), include_zero="true"
    ) == expected_on_hand(stock, date(2024, 3, 31), include_zero=True)
    assert run(
        boss, "stock-on-hand", as_of=date(2024, 2, 10), sku="B-2", location="WH1"
    ) == expected_on_hand(stock, date(2024, 2, 10), sku="B-2", location="WH1")

    def level(day: str, sku: str, code: str) -> tuple[int, int, int] | None:
        rows = boss.get(f"/reports/stock-on-hand?as_of={day}&sku={sku}&location={code}").json[
            "rows"
        ]
        return (rows[0]["on_hand"], rows[0]["reserved"], rows[0]["available"]) if rows else None

    # Written out: a movement at 23:59:59 counts for its day, one at 00:00:00 does not.
    assert level("2024-01-30", "B-2", "WH1") is None
    assert level("2024-01-31", "B-2", "WH1") == (30, 0, 30)
    assert level("2024-01-31", "A-1", "WH1") == (100, 0, 100)
    assert level("2024-02-01", "A-1", "WH1") == (90, 0, 90)
    # R3 (5) held on the 9th, expired at noon on the 10th; -3 at 23:59:59 of the 10th
    assert level("2024-02-09", "B-2", "WH1") == (30, 5, 25)
    assert level("2024-02-10", "B-2", "WH1") == (27, 0, 27)
    assert level("2024-02-11", "B-2", "WH1") == (28, 0, 28)
    # R1 (4) confirmed at 00:00:00 on the 12th: held all of the 11th, issued on the 12th
    assert level("2024-02-11", "A-1", "WH1") == (65, 4, 61)
    assert level("2024-02-12", "A-1", "WH1") == (61, 0, 61)
    # R2 (2) released at noon on the 20th
    assert level("2024-02-19", "A-1", "WH2") == (20, 2, 18)
    assert level("2024-02-20", "A-1", "WH2") == (20, 0, 20)


def test_stock_on_hand_as_of_today_or_later_is_now(boss: Any, stock: Stock) -> None:
    now = expected_on_hand(stock)
    today = datetime.now(UTC).date()
    assert run(boss, "stock-on-hand", as_of=today) == now
    assert run(boss, "stock-on-hand", as_of=date(2999, 1, 1)) == now
    # the last day there is (no date arithmetic past it)
    assert run(boss, "stock-on-hand", as_of=date(9999, 12, 31)) == now
    assert run(boss, "stock-on-hand", as_of=date(1, 1, 1)) == []


# low-stock ----------------------------------------------------------------------------


def test_low_stock_and_suggestions(boss: Any, stock: Stock, plinth_engine: Any) -> None:
    rows = run(boss, "low-stock")
    assert rows == expected_low_stock(stock)
    assert pick(
        rows,
        "sku",
        "reorder_point",
        "on_hand",
        "reserved",
        "available",
        "shortfall",
        "suggested_quantity",
        "suggested_cost",
    ) == [
        ("A-1", 80, 80, 6, 74, 6, 86, "215.0000"),
        ("B-2", 22, 22, 0, 22, 0, 22, "2.2000"),  # at the reorder point counts
        ("D-4", 3, 0, 0, 0, 3, 6, "43.5000"),  # never stocked
    ]
    # suggested_quantity = 2 x reorder_point - available
    assert all(r["suggested_quantity"] == 2 * r["reorder_point"] - r["available"] for r in rows)
    assert run(boss, "low-stock", sku="D-4") == expected_low_stock(stock, sku="D-4")
    assert run(boss, "low-stock", sku="C-3") == []
    assert run(boss, "low-stock", sku="E-5") == []  # inactive
    # the same items as the catalog's filter (active ones)
    listed = [
        r["sku"] for r in boss.get("/stock?below_reorder_point=true").json["items"] if r["active"]
    ]
    assert listed == [r["sku"] for r in rows]
    # a reservation makes B-2 fall below: the report follows at once
    reserve(boss, "WH2", "B-2", 1, reference="SO-11")
    b2 = run(boss, "low-stock", sku="B-2")
    assert pick(b2, "available", "shortfall", "suggested_quantity") == [(21, 1, 23)]
    assert b2 == expected_low_stock(read_back(plinth_engine), sku="B-2")


# movements ----------------------------------------------------------------------------

MOVEMENT_FILTERS: list[dict[str, Any]] = [
    {},
    {"sku": "A-1"},
    {"location": "WH2"},
    {"sku": "B-2", "location": "WH1"},
    {"kind": "transfer_out"},
    {"kind": "reservation_confirmed"},
    {"kind": "adjustment", "sku": "B-2", "location": "WH1"},
    {"reference": "TR-1"},
    {"reference": "SO-3"},
    {"reference": "NOPE"},
    {"date_from": date(2024, 2, 5), "date_to": date(2024, 2, 11)},
    {"date_to": date(2024, 1, 31)},
    {"date_from": date(2024, 2, 1)},
    {"date_from": date(2024, 3, 31), "date_to": date(2024, 3, 31)},
    {"date_from": date(2024, 2, 1), "date_to": date(2024, 2, 29), "sku": "A-1", "kind": "issue"},
    {"date_from": date(2024, 2, 1), "reference": "TR-2"},
]


def test_movements_with_running_balance_and_filters(boss: Any, stock: Stock) -> None:
    everything = run(boss, "movements")
    assert everything == expected_movements(stock)
    assert len(everything) == len(stock.ledger) == 17
    for filters in MOVEMENT_FILTERS:
        assert run(boss, "movements", **filters) == expected_movements(stock, **filters), filters
    # Written out: the balance counts history the filters leave out.
    transfer = run(boss, "movements", reference="TR-1")
    assert pick(transfer, "location", "kind", "quantity", "balance") == [
        ("WH1", "transfer_out", -25, 65),
        ("WH2", "transfer_in", 25, 25),
    ]
    window = run(
        boss, "movements", sku="B-2", location="WH1", date_from="2024-02-10", date_to="2024-02-11"
    )
    assert pick(window, "created_at", "quantity", "balance", "reason") == [
        ("2024-02-10T23:59:59+00:00", -3, 27, "count"),
        ("2024-02-11T00:00:00+00:00", 1, 28, "found"),
    ]
    january = run(boss, "movements", date_to="2024-01-31")
    assert pick(january, "sku", "created_at") == [
        ("A-1", "2024-01-30T09:00:00+00:00"),
        ("B-2", "2024-01-31T23:59:59+00:00"),
    ]
    confirmed = run(boss, "movements", kind="reservation_confirmed")
    assert pick(confirmed, "sku", "location", "quantity", "balance", "reference", "actor") == [
        ("A-1", "WH1", -4, 61, "SO-3", "user:boss")
    ]


# stock-balance ----------------------------------------------------------------------

BALANCE_CASES: list[dict[str, Any]] = [
    {},
    {"period": "month"},
    {"period": "week"},
    {"period": "day"},
    {"period": "day", "date_from": date(2024, 2, 1), "date_to": date(2024, 2, 11)},
    # rounded to Monday 5 February .. the end of the week of Sunday 31 March
    {"period": "week", "date_from": date(2024, 2, 6), "date_to": date(2024, 3, 31)},
    # rounded to 1 February: January makes the openings
    {"period": "month", "date_from": date(2024, 2, 15)},
    {"period": "month", "date_from": date(2024, 2, 1), "date_to": date(2024, 3, 1), "sku": "B-2"},
    {"period": "week", "location": "WH2"},
    {
        "period": "day",
        "date_from": date(2024, 3, 31),
        "date_to": date(2024, 4, 1),
        "sku": "B-2",
        "location": "WH2",
    },
    {"period": "day", "date_from": date(2024, 5, 1), "date_to": date(2024, 5, 31)},
]


def test_stock_balance_per_period(boss: Any, stock: Stock) -> None:
    for params in BALANCE_CASES:
        rows = run(boss, "stock-balance", **params)
        assert rows == expected_balance(stock, **params), params
        assert all(r["closing"] == r["opening"] + r["in"] - r["out"] for r in rows)
    # Written out: months split at Jan 31 23:59:59 / Feb 1 00:00:00 ...
    months = run(boss, "stock-balance", sku="A-1", location="WH1")
    assert pick(months, "period", "opening", "in", "out", "closing")[:2] == [
        ("2024-01-01", 0, 100, 0, 100),
        ("2024-02-01", 100, 0, 39, 61),
    ]
    # ... weeks start on Monday: Sunday 4 Feb is in the week of 29 Jan ...
    weeks = run(boss, "stock-balance", period="week", sku="A-1", location="WH2")
    assert pick(weeks, "period", "opening", "in", "out", "closing") == [
        ("2024-01-29", 0, 25, 0, 25),
        ("2024-02-05", 25, 0, 5, 20),
        ("2024-02-26", 20, 0, 1, 19),
    ]
    # ... and the opening carries everything before date_from.
    ranged = run(boss, "stock-balance", period="week", date_from="2024-02-06", date_to="2024-02-11")
    assert pick(ranged, "period", "sku", "location", "opening", "in", "out", "closing") == [
        ("2024-02-05", "A-1", "WH2", 25, 0, 5, 20),
        ("2024-02-05", "B-2", "WH1", 30, 1, 3, 28),
    ]
    march = run(boss, "stock-balance", date_from="2024-03-01", date_to="2024-03-31", sku="B-2")
    assert pick(march, "period", "location", "opening", "in", "out", "closing") == [
        ("2024-03-01", "WH1", 28, 0, 10, 18),
        ("2024-03-01", "WH2", 0, 10, 0, 10),
    ]


def test_stock_balance_far_dates(boss: Any, stock: Stock) -> None:
    # the first and last days there are: no date arithmetic past them
    for period in ("day", "week", "month"):
        rows = run(
            boss, "stock-balance", period=period, date_from="0001-01-01", date_to="9999-12-31"
        )
        assert rows == expected_balance(stock, period), period
    svg = boss.get("/reports/stock-balance?format=svg&date_to=9999-12-31")
    assert svg.content_type == "image/svg+xml"


# valuation ----------------------------------------------------------------------------


def test_valuation_with_total_line(boss: Any, stock: Stock) -> None:
    rows = run(boss, "valuation")
    assert rows == expected_valuation(stock)
    assert rows[-1] == {
        "line": "total",
        "sku": None,
        "name": None,
        "location": None,
        "on_hand": 109,
        "unit_cost": None,
        "value": "204.5331",
    }
    assert [r["line"] for r in rows] == ["item"] * 5 + ["total"]
    assert run(boss, "valuation", location="WH1") == expected_valuation(stock, location="WH1")
    for text in (
        "2024-01-29",
        "2024-01-31",
        "2024-02-10",
        "2024-02-11",
        "2024-03-15",
        "2024-03-31",
        "2099-01-01",
        "9999-12-31",
    ):
        day = date.fromisoformat(text)
        assert run(boss, "valuation", as_of=day) == expected_valuation(stock, day), text
    assert run(boss, "valuation", as_of="2024-02-10", location="WH2") == expected_valuation(
        stock, date(2024, 2, 10), "WH2"
    )
    # nothing to value: the total line alone, at zero
    assert run(boss, "valuation", as_of="2024-01-29") == [
        {
            "line": "total",
            "sku": None,
            "name": None,
            "location": None,
            "on_hand": 0,
            "unit_cost": None,
            "value": "0.0000",
        }
    ]
    assert run(boss, "valuation", location="WH3")[-1]["value"] == "0.0000"


# The database's time zone -----------------------------------------------------------


def test_days_are_utc_whatever_the_database_time_zone(
    stock: Stock, admin: dict[str, str], plinth_settings: dict[str, Any]
) -> None:
    """Reports through a PostgreSQL session at UTC+14 say what they say at UTC.

    (On SQLite, which has no session time zone, this reads the same file.)
    """
    from webtest import TestApp

    from plinth.api import make_app

    url = plinth_settings["sqlalchemy.url"]
    if url.startswith("postgresql"):
        url += ("&" if "?" in url else "?") + "options=-c%20TimeZone%3DPacific%2FKiritimati"
    wsgi = make_app({**plinth_settings, "reporting.database_url": url})
    engine = get_service(wsgi.registry, IReadEngine, "reporting")
    try:
        if engine.dialect.name == "postgresql":
            with engine.connect() as connection:
                assert connection.exec_driver_sql("SHOW TimeZone").scalar() == "Pacific/Kiritimati"
        app = TestApp(
            wsgi,
            extra_environ={
                "HTTP_HOST": "localhost",
                "REMOTE_ADDR": "127.0.0.1",
                "HTTP_AUTHORIZATION": admin["Authorization"],
            },
        )
        for params in BALANCE_CASES:
            assert run(app, "stock-balance", **params) == expected_balance(stock, **params), params
        for filters in MOVEMENT_FILTERS:
            assert run(app, "movements", **filters) == expected_movements(stock, **filters)
        for text in ("2024-01-31", "2024-02-10", "2024-02-11"):
            day = date.fromisoformat(text)
            assert run(app, "stock-on-hand", as_of=day) == expected_on_hand(stock, day)
            assert run(app, "valuation", as_of=day) == expected_valuation(stock, day)
    finally:
        engine.dispose()
        get_service(wsgi.registry, IReadEngine).dispose()


# Charts -------------------------------------------------------------------------------


def svg_text(response: Any) -> str:
    assert response.status_int == 200
    assert response.headers["Content-Type"].startswith("image/svg+xml")
    body = response.body.decode("utf-8")
    assert body.lstrip().startswith(("<?xml", "<svg")) and "<svg" in body
    root = ET.fromstring(response.body)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    return " ".join(t.strip() for t in root.itertext() if t.strip())


def test_svg_charts(boss: Any, stock: Stock) -> None:
    words = svg_text(boss.get("/reports/stock-balance?format=svg&period=week"))
    for label in ("Stock in and out per period", "period", "quantity", "in", "out", "period week"):
        assert label in words, label
    ranged = svg_text(
        boss.get(
            "/reports/stock-balance?format=svg&period=day"
            "&date_from=2024-02-01&date_to=2024-02-29&sku=A-1"
        )
    )
    assert "sku A-1" in ranged and "date_from 2024-02-01" in ranged

    valuation = svg_text(boss.get("/reports/valuation?format=svg"))
    for label in ("Stock value per location", "location", "value", "WH1", "WH2"):
        assert label in valuation, label
    # a past day values what was there then: WH2 had nothing on 30 January
    january = svg_text(boss.get("/reports/valuation?format=svg&as_of=2024-01-30"))
    assert "WH1" in january and "WH2" not in january

    empty = svg_text(boss.get("/reports/stock-balance?format=svg&sku=NOPE"))
    assert "no data for these parameters" in empty

    # a few periods: one tick each, named as the report names periods
    months = svg_text(boss.get("/reports/stock-balance?format=svg&period=month"))
    assert "2024-01" in months and "2024-02" in months


@pytest.mark.parametrize("name", ["movements", "stock-on-hand", "low-stock"])
def test_svg_of_a_report_without_chart_is_400(boss: Any, name: str) -> None:
    body = assert_error(boss.get(f"/reports/{name}?format=svg", status=400), 400, "invalid_request")
    assert body["details"]["errors"] == [
        {"location": "query", "field": "format", "message": "this report has no chart"}
    ]


# Size: streaming and the chart limit -----------------------------------------------

MANY = 3000


def test_thousands_of_movements_stream_complete(
    boss: Any, plinth_engine: Any, plinth_app: Any
) -> None:
    from webob import Request

    from plinth.testing import IDENTITY_KEY

    put_location(boss, "WH1")
    put_item(boss, "S-1")
    quantities = [1 + n % 5 for n in range(MANY)]
    balances = list(accumulate(quantities))
    with plinth_engine.begin() as connection:
        item_id = connection.execute(select(items_table.c.id)).scalar_one()
        location_id = connection.execute(select(locations_table.c.id)).scalar_one()
        start = at("2010-01-01 12:00:00")
        connection.execute(
            insert(movements_table),
            [
                {
                    "item_id": item_id,
                    "location_id": location_id,
                    "kind": "receipt",
                    "quantity": quantities[n],
                    "balance": balances[n],
                    "reference": f"R-{n}",
                    "actor": "bulk",
                    "created_at": start + timedelta(days=n),
                }
                for n in range(MANY)
            ],
        )
    total = sum(1 + n % 5 for n in range(MANY))

    response = boss.get("/reports/movements?format=csv&sku=S-1")
    lines = list(csv.reader(io.StringIO(response.body.decode("utf-8"), newline="")))
    assert lines[0] == HEADERS["movements"].split(",")
    assert len(lines) == MANY + 1
    assert [line[8] for line in lines[1:]] == [f"R-{n}" for n in range(MANY)]
    assert int(lines[-1][7]) == total
    body = boss.get("/reports/movements?sku=S-1").json
    assert body["row_count"] == len(body["rows"]) == MANY
    assert body["rows"][-1]["balance"] == total

    # Sent in pieces as it is read, without a Content-Length.
    request = Request.blank(
        "/reports/movements?format=csv",
        environ={
            "HTTP_HOST": "localhost",
            "REMOTE_ADDR": "127.0.0.1",
            IDENTITY_KEY: boss.extra_environ[IDENTITY_KEY],
        },
    )
    status, headers, app_iter = request.call_application(plinth_app)
    try:
        chunks = list(app_iter)
    finally:
        getattr(app_iter, "close", lambda: None)()
    assert status.startswith("200")
    assert "Content-Length" not in dict(headers)
    assert len(chunks) >= 3
    assert b"".join(chunks).count(b"\r\n") == MANY + 1

    # One bar a day for 3000 days says nothing: 400; by month it is a chart.
    too_many = assert_error(
        boss.get("/reports/stock-balance?format=svg&period=day", status=400), 400, "chart_too_large"
    )
    assert too_many["details"] == {"limit": 1000}
    assert svg_text(boss.get("/reports/stock-balance?format=svg&period=month"))
    months = run(boss, "stock-balance", period="month", date_from="2018-01-01")
    assert months[0]["opening"] == sum(
        1 + n % 5 for n in range(MANY) if start + timedelta(days=n) < at("2018-01-01 00:00")
    )
    assert months[-1]["closing"] == total


# Bad parameters -------------------------------------------------------------------

LONG = "x" * 65
# (report, query string, the field named)
BAD: list[tuple[str, str, str]] = [
    *[(name, "nosuch=1", "nosuch") for name in REPORTS],
    *[(name, "format=xml", "format") for name in REPORTS],
    *[(name, "format=JSON", "format") for name in REPORTS],
    *[(name, "format=csv&format=json", "format") for name in REPORTS],
    *[(name, "sku=A-1&sku=B-2", "sku") for name in REPORTS if name != "valuation"],
    *[(name, f"location={LONG}", "location") for name in REPORTS if name != "low-stock"],
    *[(name, f"sku={LONG}", "sku") for name in REPORTS if name != "valuation"],
    *[(name, "sku=%00", "sku") for name in REPORTS if name != "valuation"],
    ("stock-on-hand", "format=svg", "format"),
    ("stock-on-hand", "as_of=2024-02-30", "as_of"),
    ("stock-on-hand", "as_of=2024-2-3", "as_of"),
    ("stock-on-hand", "as_of=yesterday", "as_of"),
    ("stock-on-hand", "as_of=2024-02-01T00:00:00", "as_of"),
    ("stock-on-hand", "include_zero=maybe", "include_zero"),
    ("stock-on-hand", "include_zero=2", "include_zero"),
    ("stock-on-hand", "period=day", "period"),
    ("low-stock", "format=svg", "format"),
    ("low-stock", "location=WH1", "location"),
    ("low-stock", "as_of=2024-01-01", "as_of"),
    ("movements", "format=svg", "format"),
    ("movements", "kind=transfer", "kind"),
    ("movements", "kind=RECEIPT", "kind"),
    ("movements", "date_from=2024-13-01", "date_from"),
    ("movements", "date_to=31-01-2024", "date_to"),
    ("movements", "date_from=2024-02-02&date_to=2024-02-01", "date_to"),
    ("movements", "date_from=2024-02-02&date_to=2024-02-01&format=csv", "date_to"),
    ("movements", "reference=" + "r" * 201, "reference"),
    ("movements", "reference=%00x", "reference"),
    ("movements", "period=day", "period"),
    ("stock-balance", "period=year", "period"),
    ("stock-balance", "period=Week", "period"),
    ("stock-balance", "date_from=x", "date_from"),
    ("stock-balance", "date_from=2024-03-02&date_to=2024-03-01", "date_to"),
    ("stock-balance", "date_from=2024-03-02&date_to=2024-03-01&format=csv", "date_to"),
    ("stock-balance", "date_from=2024-03-02&date_to=2024-03-01&format=svg", "date_to"),
    ("stock-balance", "as_of=2024-01-01", "as_of"),
    ("stock-balance", "include_zero=true", "include_zero"),
    ("valuation", "format=pdf", "format"),
    ("valuation", "as_of=2024-02-30", "as_of"),
    ("valuation", "sku=A-1", "sku"),
    ("valuation", "include_zero=true", "include_zero"),
    ("valuation", "location=%00", "location"),
]


@pytest.mark.parametrize(
    ("name", "query", "field_name"), BAD, ids=[f"{n}?{q[:40]}" for n, q, _ in BAD]
)
def test_bad_parameters_are_400_naming_the_field(
    boss: Any, name: str, query: str, field_name: str
) -> None:
    response = boss.get(f"/reports/{name}?{query}", status=400)
    body = assert_error(response, 400, "invalid_request")
    assert field_name in body["message"]
    errors = body["details"]["errors"]
    assert {"location": "query", "field": field_name} in [
        {"location": e["location"], "field": e["field"]} for e in errors
    ], errors
    assert all(isinstance(e["message"], str) and e["message"] for e in errors)
    assert "Content-Disposition" not in response.headers


def test_every_problem_is_reported_at_once(boss: Any) -> None:
    body = boss.get(
        "/reports/movements?kind=nope&date_from=2024-02-30&colour=red&sku=a&sku=b", status=400
    ).json
    assert sorted(e["field"] for e in body["details"]["errors"]) == [
        "colour",
        "date_from",
        "kind",
        "sku",
    ]
