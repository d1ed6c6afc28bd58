"""CSV written by the database equals CSV written in Python, byte for byte."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, Integer, String, literal, select, union_all

from plinth_reporting.output import CsvStream, RowStream, csv_select
from plinth_reporting.registry import Column

from .sample_reports import FORMULA_ROWS

COLUMNS = [Column("text", "string"), Column("n", "integer"), Column("at", "datetime")]
MOMENTS = [
    datetime(2024, 2, 29, 23, 59, 59, tzinfo=UTC),
    datetime(2024, 3, 1, 0, 0, 0, 120, tzinfo=UTC),
    datetime(1999, 12, 31, 12, 30, 0, 999999, tzinfo=UTC),
]


def statement() -> Any:
    """Formula-like text and integers, in a known order (``position``)."""
    selects = [
        select(
            literal(cell, String()).label("text"),
            literal(n, BigInteger()).label("n"),
            literal(position, Integer()).label("position"),
        )
        for position, (cell, n, _) in enumerate(FORMULA_ROWS)
    ]
    return union_all(*selects).subquery("rows")


class PythonCsv(CsvStream):
    """The CSV as Python writes it, for a statement ``csv_select`` cannot rewrite."""

    def start(self) -> RowStream:
        return RowStream.start(self)


def csv_of(
    engine: Any, stmt: Any, columns: list[Column], stream: type[CsvStream] = CsvStream
) -> bytes:
    return b"".join(stream(engine.connect(), stmt, columns, chunk_rows=3).start())


def test_database_formatting_matches_python(plinth_engine: Any) -> None:
    rows = statement()
    # A timestamp per row, cycled: bound as each database stores timestamps.
    moments = union_all(
        *[
            select(
                literal(n, Integer()).label("position"),
                literal(MOMENTS[n % len(MOMENTS)], DateTime(timezone=True)).label("at"),
            )
            for n in range(len(FORMULA_ROWS))
        ]
    ).subquery("moments")
    stmt = (
        select(rows.c.text, rows.c.n, moments.c.at)
        .join_from(rows, moments, moments.c.position == rows.c.position)
        .order_by(rows.c.position)
    )
    rewritten = csv_select(stmt, COLUMNS, plinth_engine.dialect.name)
    assert rewritten is not None
    # DISTINCT is left alone (its ORDER BY must name the select list as it is).
    assert csv_select(stmt.distinct(), COLUMNS, plinth_engine.dialect.name) is None
    by_database = csv_of(plinth_engine, stmt, COLUMNS)
    by_python = csv_of(plinth_engine, stmt, COLUMNS, PythonCsv)
    assert by_database == by_python
    lines = by_database.decode("utf-8").split("\r\n")
    assert lines[0] == "text,n,at"
    assert lines[2].startswith("'+1+1,")
    assert lines[1].endswith(",2024-02-29T23:59:59+00:00")
    assert lines[2].endswith(",2024-03-01T00:00:00.000120+00:00")


def test_empty_report_is_its_header(plinth_engine: Any) -> None:
    rows = statement()
    stmt = select(rows.c.text, rows.c.n).where(rows.c.n > 10**15).order_by(rows.c.position)
    columns = COLUMNS[:2]
    assert csv_of(plinth_engine, stmt, columns) == b"text,n\r\n"
