"""``plinth stock verify|expire|import|demo`` through click, on the test database."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from .helpers import level, move, movements, reserve, snapshot, stocked


def write_csv(tmp_path: Path, name: str, content: str) -> str:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    return str(path)


def test_verify_passes_on_a_consistent_database(plinth_cli: Any, boss: Any) -> None:
    stocked(boss, "A-1", "WH1", 10)
    stocked(boss, "A-1", "WH2", 4)
    move(boss, "WH1", "A-1", "issue", 3)
    reserve(boss, "WH1", "A-1", 2)
    boss.post_json("/stock/A-1/transfers", {"from": "WH1", "to": "WH2", "quantity": 1})
    result = plinth_cli("stock", "verify")
    assert result.exit_code == 0, result.output
    assert "every level and every line's balance match" in result.stdout


@pytest.mark.parametrize(
    "corruption",
    [
        "UPDATE stock_levels SET on_hand = on_hand + 1",
        "UPDATE stock_levels SET reserved = 0",
        "DELETE FROM stock_movements WHERE kind = 'issue'",
        "UPDATE stock_movements SET balance = balance + 1 WHERE kind = 'issue'",
    ],
)
def test_verify_fails_after_a_level_is_corrupted(
    plinth_cli: Any, boss: Any, plinth_engine: Any, corruption: str
) -> None:
    stocked(boss, "A-1", "WH1", 10)
    move(boss, "WH1", "A-1", "issue", 3)
    reserve(boss, "WH1", "A-1", 2)
    assert plinth_cli("stock", "verify").exit_code == 0
    with plinth_engine.begin() as connection:
        connection.execute(text(corruption))
    result = plinth_cli("stock", "verify")
    assert result.exit_code == 1, result.output
    assert "A-1" in result.stdout and "WH1" in result.stdout
    assert "drifted" in result.stderr


def test_expire_releases_expired_reservations(
    plinth_cli: Any, boss: Any, plinth_engine: Any, clock: Any
) -> None:
    stocked(boss, "A-1", "WH1", 10)
    old = reserve(boss, "WH1", "A-1", 3, ttl_seconds=60).json["id"]
    older = reserve(boss, "WH1", "A-1", 2, ttl_seconds=30).json["id"]
    fresh = reserve(boss, "WH1", "A-1", 1, ttl_seconds=3600).json["id"]
    clock.advance(seconds=61)
    result = plinth_cli("stock", "expire")
    assert result.exit_code == 0, result.output
    assert "released 2 expired reservation(s)" in result.stdout
    with plinth_engine.connect() as connection:
        rows = dict(connection.execute(text("SELECT id, status FROM stock_reservations")).all())
        reserved = connection.execute(text("SELECT reserved FROM stock_levels")).scalar_one()
    assert rows == {old: "expired", older: "expired", fresh: "active"}
    assert reserved == 1  # the stored level, not only what reads compute
    assert level(boss, "A-1", "WH1") == {"on_hand": 10, "reserved": 1, "available": 9}
    assert plinth_cli("stock", "verify").exit_code == 0
    again = plinth_cli("stock", "expire")
    assert "released 0 expired reservation(s)" in again.stdout


def test_import_items_then_counts(plinth_cli: Any, boss: Any, tmp_path: Path) -> None:
    boss.put_json("/locations/WH1", {"name": "Main"})
    boss.put_json("/locations/WH2", {"name": "Overflow"})
    items = write_csv(
        tmp_path,
        "items.csv",
        "sku,name,unit,reorder_point,unit_cost\n"
        "A-1,Anchor bolt,each,5,0.35\n"
        "B-2,Bracket,box,,\n"
        "C-3,Cable tie,each,20,12.5\n",
    )
    result = plinth_cli("stock", "import", items)
    assert result.exit_code == 0, result.output
    assert "imported 3 items row(s)" in result.stdout
    a1 = boss.get("/stock/A-1").json
    assert (a1["name"], a1["reorder_point"], a1["unit_cost"]) == ("Anchor bolt", 5, "0.3500")
    assert boss.get("/stock/B-2").json["unit"] == "box"
    assert boss.get("/stock/C-3").json["unit_cost"] == "12.5000"

    move(boss, "WH1", "A-1", "receipt", 4)
    counts = write_csv(
        tmp_path, "counts.csv", "location,sku,quantity\nWH1,A-1,12\nWH2,C-3,5\nWH1,B-2,0\n"
    )
    result = plinth_cli("stock", "import", counts, "--reference", "count-2026")
    assert result.exit_code == 0, result.output
    assert level(boss, "A-1", "WH1")["on_hand"] == 12
    assert level(boss, "C-3", "WH2")["on_hand"] == 5
    assert level(boss, "B-2", "WH1")["on_hand"] == 0
    latest = movements(boss, "WH1", "A-1")[0]
    assert (latest["kind"], latest["quantity"], latest["reference"]) == (
        "adjustment",
        8,
        "count-2026",
    )
    assert latest["reason"]
    assert movements(boss, "WH1", "B-2") == []  # nothing to adjust, no movement
    # counting again to the same numbers changes nothing
    plinth_cli("stock", "import", counts)
    assert len(movements(boss, "WH1", "A-1")) == 2
    assert plinth_cli("stock", "verify").exit_code == 0


@pytest.mark.parametrize(
    ("name", "content", "bad_lines"),
    [
        (
            "items.csv",
            (
                "sku,name,reorder_point,unit_cost\n"
                "A-1,Fine,1,1.00\n"
                "bad sku,Bad code,1,1\n"
                "C-3,,1,1\n"
                "D-4,Bad cost,1,1.23456\n"
                "E-5,Bad point,-3,1\n"
            ),
            [3, 4, 5, 6],
        ),
        (
            "counts.csv",
            (
                "location,sku,quantity\n"
                "WH1,A-1,5\n"
                "WH1,A-1,-1\n"
                "WH1,A-1,1.5\n"
                "WH1,A-1,lots\n"
                "W H,A-1,1\n"
            ),
            [3, 4, 5, 6],
        ),
        ("short.csv", ("location,sku,quantity\nWH1,A-1,5\nWH1,A-1\n"), [3]),
        ("short-items.csv", ("sku,name,unit_cost\nA-1,Fine,1\nB-2\n"), [3]),
    ],
)
def test_import_refuses_bad_rows_and_changes_nothing(
    plinth_cli: Any,
    boss: Any,
    plinth_engine: Any,
    tmp_path: Path,
    name: str,
    content: str,
    bad_lines: list[int],
) -> None:
    stocked(boss, "A-1", "WH1", 2)
    before = snapshot(plinth_engine)
    result = plinth_cli("stock", "import", write_csv(tmp_path, name, content))
    assert result.exit_code == 1, result.output
    for line in bad_lines:
        assert f"line {line}:" in result.stderr, result.stderr
    assert "line 2:" not in result.stderr
    assert "nothing was imported" in result.stderr
    assert snapshot(plinth_engine) == before


def test_import_stops_at_a_row_it_cannot_apply(
    plinth_cli: Any, boss: Any, plinth_engine: Any, tmp_path: Path
) -> None:
    """Rows that parse but cannot be applied (an unknown location, a count below what is
    reserved) stop the whole import: the rows before them are rolled back too."""
    stocked(boss, "A-1", "WH1", 10)
    stocked(boss, "B-2", "WH1", 10)
    reserve(boss, "WH1", "B-2", 6)
    before = snapshot(plinth_engine)
    for content, line in (
        ("location,sku,quantity\nWH1,A-1,3\nNOPE,A-1,1\n", 3),
        ("location,sku,quantity\nWH1,A-1,3\nWH1,B-2,5\n", 3),
    ):
        result = plinth_cli("stock", "import", write_csv(tmp_path, "c.csv", content))
        assert result.exit_code == 1, result.output
        assert f"line {line}:" in result.stderr
        assert snapshot(plinth_engine) == before
    assert level(boss, "A-1", "WH1")["on_hand"] == 10


def test_import_needs_a_known_header(plinth_cli: Any, tmp_path: Path) -> None:
    result = plinth_cli("stock", "import", write_csv(tmp_path, "x.csv", "a,b\n1,2\n"))
    assert result.exit_code == 1
    assert "header" in result.stderr


def test_demo_loads_once(plinth_cli: Any, boss: Any, plinth_engine: Any) -> None:
    result = plinth_cli("stock", "demo")
    assert result.exit_code == 0, result.output
    assert boss.get("/stock/A-1").json["stock"] == 12
    assert boss.get("/stock/B-2").json["stock"] == 0
    assert boss.get("/stock/C-3").json["stock"] == 5
    codes = [r["code"] for r in boss.get("/locations").json["items"]]
    assert {"WH1", "WH2"} <= set(codes)
    before = snapshot(plinth_engine)
    again = plinth_cli("stock", "demo")
    assert again.exit_code == 0, again.output
    assert "already" in again.stdout
    assert snapshot(plinth_engine) == before
    assert plinth_cli("stock", "verify").exit_code == 0
