"""Report rows as JSON or CSV, streamed from a database cursor in chunks.

The statement runs before the response starts, so that a failing query is an
ordinary JSON error; the rows are then fetched ``CHUNK_ROWS`` at a time (a
server-side cursor on PostgreSQL, ``fetchmany`` on SQLite) while the server
sends the previous chunk.  Memory stays flat whatever the number of rows.

The stream owns its connection: the request's session is closed by pyramid_tm
when the view returns, long before the body is sent.  The WSGI server calls
``close()`` when the body is sent or the client goes away.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_EVEN, Context, Decimal
from operator import itemgetter
from typing import Any

from sqlalchemy import BigInteger, String, case, cast, func, literal
from sqlalchemy.engine import Connection, CursorResult
from sqlalchemy.sql import Select

from .models import Column

CHUNK_ROWS = 1000

Converter = Callable[[Any], Any]


# Values -------------------------------------------------------------------------


def _integer(value: Any) -> int | None:
    # PostgreSQL's SUM of integers is a bigint or a numeric: always an int here.
    return None if value is None else int(value)


# Room for any sum of products of 32-bit quantities and 14-digit costs: the
# default 28 digits would make quantize() fail on a large total.
WIDE = Context(prec=60)


def _decimal(scale: int | None) -> Converter:
    quantum = Decimal(1).scaleb(-scale) if scale is not None else None

    def convert(value: Any) -> str | None:
        if value is None or isinstance(value, str):
            # None, or text the database formatted itself (fast path).
            return value
        number = value if isinstance(value, Decimal) else Decimal(str(value))
        if quantum is not None:
            # SQLite computes NUMERIC as binary floats; the declared scale
            # rounds away their last-digit noise.
            number = number.quantize(quantum, rounding=ROUND_HALF_EVEN, context=WIDE)
        return str(number)

    return convert


def _date(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)[:10]


def _datetime(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        if value.tzinfo is None:
            # SQLite hands back naive values; Plinth stores UTC.
            return value.isoformat() + "+00:00"
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC).isoformat()
    return str(value)


def converter(column: Column) -> Converter | None:
    """How a database value of ``column`` is written to JSON and CSV.

    None for string columns: text (or NULL) passes through as the database
    returns it, which saves a call per cell on the hot path.
    """
    if column.type == "integer":
        return _integer
    if column.type == "decimal":
        return _decimal(column.scale)
    if column.type == "date":
        return _date
    if column.type == "datetime":
        return _datetime
    return None


# Values formatted by the database (CSV) -------------------------------------------

# Spreadsheets run a cell starting with one of these as a formula (OWASP, "CSV
# Injection"): =HYPERLINK(...) in a movement's reference would reach whoever
# opens the report.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _formula_safe_sql(expr: Any) -> Any:
    """SQL: text ``expr`` with a single quote before a formula's first character."""
    text = cast(expr, String)
    return case((func.substr(text, 1, 1).in_(FORMULA_START), literal("'") + text), else_=text)


def _datetime_sql(dialect: str, expr: Any) -> Any | None:
    """SQL: ``expr`` as :func:`_datetime` writes it, or None where only Python can.

    SQLite stores SQLAlchemy's ``YYYY-MM-DD HH:MM:SS.ffffff`` text in UTC;
    ``isoformat()`` leaves out a zero fraction.  On PostgreSQL only an aware
    timestamp says which instant it is whatever the session's time zone.
    """
    if dialect == "sqlite":
        text = cast(expr, String)
        whole = case((func.substr(text, 20) == ".000000", func.substr(text, 1, 19)), else_=text)
        return func.replace(whole, " ", "T") + "+00:00"
    if dialect == "postgresql" and getattr(expr.type, "timezone", False):
        utc = func.timezone("UTC", expr)
        fraction = func.to_char(utc, "US")
        return (
            func.to_char(utc, 'YYYY-MM-DD"T"HH24:MI:SS')
            + case((fraction == "000000", ""), else_="." + fraction)
            + "+00:00"
        )
    return None


def csv_select(
    statement: Any, columns: Sequence[Column], dialect: str
) -> tuple[Any, set[str]] | None:
    """``statement`` selecting exactly ``columns``, with the database writing
    them as the CSV shows them, and the names of the columns it formats; None
    if the statement cannot be rewritten.

    Integers come back as integers, timestamps as ISO text and text cells
    neutralised (:data:`FORMULA_START`), so that half a million rows cost no
    Python call per cell.  ORDER BY, GROUP BY and the FROM clause stay as the
    report built them.  Decimal columns the report selects as text are taken
    as they are; other decimal and date columns are still converted in
    Python (see :func:`converter`); a text statement, a UNION or a DISTINCT
    (whose ORDER BY must name its select list) is left alone.
    """
    if not isinstance(statement, Select) or statement._distinct:
        return None
    selected = statement.selected_columns
    if any(c.name not in selected for c in columns):
        return None
    rewritten, formatted = [], set()
    for column in columns:
        expr = selected[column.name]
        sql = None
        if column.type == "string":
            sql = _formula_safe_sql(expr)
        elif column.type == "integer":
            # PostgreSQL's SUM of a bigint is a numeric: an int again here.
            sql = cast(expr, BigInteger)
        elif column.type == "datetime":
            sql = _datetime_sql(dialect, expr)
        elif column.type == "decimal" and isinstance(expr.type, String):
            # The report formats it itself (to its scale, as text).
            sql = expr
        if sql is not None:
            formatted.add(column.name)
        rewritten.append((expr if sql is None else sql).label(column.name))
    return statement.with_only_columns(*rewritten, maintain_column_froms=True), formatted


# Streams ------------------------------------------------------------------------


class MissingColumns(RuntimeError):
    """The report's query does not return every declared column (a bug in the report)."""


class RowStream:
    """An executed report statement, iterated as encoded chunks of output.

    Subclasses write the chunks.  ``start()`` runs the statement and fetches
    the first chunk; iteration yields bytes; ``close()`` releases the cursor
    and the connection, and is safe to call more than once.
    """

    def __init__(
        self,
        connection: Connection,
        statement: Any,
        columns: Sequence[Column],
        chunk_rows: int = CHUNK_ROWS,
    ) -> None:
        self.connection: Connection | None = connection
        self.statement = statement
        self.columns = tuple(columns)
        self.chunk_rows = chunk_rows
        self.result: CursorResult[Any] | None = None
        self.first: Sequence[Any] = []
        self.indexes: list[int] = []
        self.converters: list[Converter | None] = []
        self.count = 0

    def start(self) -> RowStream:
        assert self.connection is not None
        try:
            # yield_per: a server-side cursor where the driver has one, and
            # a bounded row buffer everywhere.
            self.result = self.connection.execution_options(yield_per=self.chunk_rows).execute(
                self.statement
            )
            keys = list(self.result.keys())
            missing = [c.name for c in self.columns if c.name not in keys]
            if missing:
                raise MissingColumns(f"the report query returns no column(s) {missing}")
            self.indexes = [keys.index(c.name) for c in self.columns]
            self.converters = [converter(c) for c in self.columns]
            self.first = self.result.fetchmany(self.chunk_rows)
        except BaseException:
            self.close()
            raise
        return self

    def fetched(self) -> Iterator[Sequence[Any]]:
        """The rows as the database returns them, one chunk at a time."""
        chunk: Sequence[Any] = self.first
        self.first = []
        while chunk:
            self.count += len(chunk)
            yield chunk
            if len(chunk) < self.chunk_rows or self.result is None:
                break
            chunk = self.result.fetchmany(self.chunk_rows)

    def rows(self) -> Iterator[list[list[Any]]]:
        """Converted rows (lists, in column order), one chunk at a time."""
        # itemgetter picks the columns in C; only the cells that need a
        # conversion cost a Python call.
        indexes = self.indexes
        pick = itemgetter(*indexes) if len(indexes) > 1 else (lambda row: (row[indexes[0]],))
        conversions = [
            (position, convert)
            for position, convert in enumerate(self.converters)
            if convert is not None
        ]
        for chunk in self.fetched():
            rows = [list(pick(row)) for row in chunk]
            for position, convert in conversions:
                for values in rows:
                    values[position] = convert(values[position])
            yield rows

    def __iter__(self) -> Iterator[bytes]:
        try:
            yield from self.chunks()
        finally:
            self.close()

    def chunks(self) -> Iterator[bytes]:  # pragma: no cover - abstract
        raise NotImplementedError

    def close(self) -> None:
        result, connection = self.result, self.connection
        self.result = self.connection = None
        try:
            if result is not None:
                result.close()
        finally:
            if connection is not None:
                connection.close()


def neutralise(rows: list[list[Any]], positions: Sequence[int]) -> None:
    """Prefix a single quote to the text cells (at ``positions``) that a
    spreadsheet would take for a formula, so that it shows them as text."""
    for position in positions:
        for values in rows:
            value = values[position]
            if value and value.startswith(FORMULA_START):
                values[position] = "'" + value


class CsvStream(RowStream):
    """RFC 4180 CSV (CRLF line ends, UTF-8): a header row, then one line a row.

    Text cells that a spreadsheet would run as a formula are neutralised
    (:func:`neutralise`); numbers, negative ones included, stay numbers.
    Where the statement allows it (:func:`csv_select`), the database formats
    the cells and the rows go to the CSV writer as they are fetched.
    """

    formatted: frozenset[str] = frozenset()

    def start(self) -> RowStream:
        if self.connection is not None:
            rewritten = csv_select(self.statement, self.columns, self.connection.dialect.name)
            if rewritten is not None:
                self.statement, formatted = rewritten
                self.formatted = frozenset(formatted)
        super().start()
        self.converters = [
            None if c.name in self.formatted else convert
            for c, convert in zip(self.columns, self.converters, strict=True)
        ]
        return self

    def chunks(self) -> Iterator[bytes]:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(self._header())
        # Only the declared text columns: -5 in an integer or decimal column
        # is a number, and a date or a time never starts with these.
        text = [
            n
            for n, column in enumerate(self.columns)
            if column.type == "string" and column.name not in self.formatted
        ]
        as_fetched = (
            not text
            and all(convert is None for convert in self.converters)
            and self.indexes == list(range(len(self.columns)))
        )
        chunks: Iterator[Sequence[Any]] = self.fetched() if as_fetched else self.rows()
        for rows in chunks:
            if text:
                neutralise(rows, text)  # type: ignore[arg-type]  # lists from rows()
            writer.writerows(rows)
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
        if buffer.tell():
            yield buffer.getvalue().encode("utf-8")

    def _header(self) -> list[str]:
        names = [[c.name] for c in self.columns]
        neutralise(names, [0])
        return [name for (name,) in names]


class JsonStream(RowStream):
    """``{..head.., "rows": [{column: value}, ...], "row_count": n}``, streamed."""

    def __init__(
        self,
        connection: Connection,
        statement: Any,
        columns: Sequence[Column],
        head: dict[str, Any],
        chunk_rows: int = CHUNK_ROWS,
    ) -> None:
        super().__init__(connection, statement, columns, chunk_rows)
        self.head = head

    def chunks(self) -> Iterator[bytes]:
        head = json.dumps(self.head, separators=(",", ":"))
        yield (head[:-1] + ',"rows":[').encode("utf-8")
        names = [c.name for c in self.columns]
        encode = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode
        separator = ""
        for rows in self.rows():
            # One encoder call a chunk; its brackets are the stream's.
            text = encode([dict(zip(names, row, strict=True)) for row in rows])[1:-1]
            yield (separator + text).encode("utf-8")
            separator = ","
        yield f'],"row_count":{self.count}}}'.encode()


def fetch_points(
    connection: Connection, statement: Any, x: str, y: Sequence[str], limit: int
) -> list[tuple[Any, list[float]]]:
    """The chart's points: y values summed per x, in first-seen x order.

    Raises ``TooManyPoints`` past ``limit`` distinct x values: a chart of
    thousands of bars says nothing, and the caller should narrow the report.
    """
    result = connection.execution_options(yield_per=CHUNK_ROWS).execute(statement)
    try:
        keys = list(result.keys())
        missing = [name for name in (x, *y) if name not in keys]
        if missing:
            raise MissingColumns(f"the chart query returns no column(s) {missing}")
        xi, yi = keys.index(x), [keys.index(name) for name in y]
        points: dict[Any, list[float]] = {}
        for row in result:
            sums = points.get(row[xi])
            if sums is None:
                if len(points) >= limit:
                    raise TooManyPoints(limit)
                sums = points[row[xi]] = [0.0] * len(yi)
            for n, index in enumerate(yi):
                value = row[index]
                if value is not None:
                    sums[n] += float(value)
        return list(points.items())
    finally:
        result.close()


class TooManyPoints(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(f"more than {limit} points")
        self.limit = limit
