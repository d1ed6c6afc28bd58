"""Stock's reports, contributed through reporting's ``config.add_report``.

Included only when the reporting plugin is enabled (see ``includeme`` of this
package); nothing here imports reporting.  Every report is one SQL statement
(aggregates and window functions that SQLite and PostgreSQL both run): the
database does the work and the rows are streamed, never loaded into Python.

Days are UTC days, as the ledger's ``created_at`` is UTC: ``as_of`` means
"at the end of that day" (or now, if that is earlier), ``date_to`` is
inclusive.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    BigInteger,
    Date,
    Numeric,
    String,
    and_,
    case,
    cast,
    func,
    literal_column,
    null,
    or_,
    select,
    true,
    type_coerce,
    union_all,
)
from sqlalchemy.sql.elements import ColumnElement

from plinth.api import APIError, clock, query_error

from .models import Item, Location, Movement, Reservation, StockLevel

items = Item.__table__
locations = Location.__table__
levels = StockLevel.__table__
movements = Movement.__table__
reservations = Reservation.__table__

PERIODS = ("day", "week", "month")
KINDS = ("receipt", "issue", "adjustment", "transfer_in", "transfer_out", "reservation_confirmed")
MONEY = 4  # unit_cost is NUMERIC(14, 4); values keep its 4 decimals

SKU = {
    "name": "sku",
    "type": "string",
    "minLength": 1,
    "maxLength": 64,
    "description": "only this item (SKU)",
}
LOCATION = {
    "name": "location",
    "type": "string",
    "minLength": 1,
    "maxLength": 64,
    "description": "only this location (code)",
}
AS_OF = {
    "name": "as_of",
    "type": "string",
    "format": "date",
    "description": "the stock at the end of this UTC day (or now, for today and "
    "later), rebuilt from the ledger; default: now, from the levels",
}
DATE_FROM = {
    "name": "date_from",
    "type": "string",
    "format": "date",
    "description": "from this UTC day (inclusive)",
}
DATE_TO = {
    "name": "date_to",
    "type": "string",
    "format": "date",
    "description": "up to this UTC day (inclusive)",
}


# Helpers ------------------------------------------------------------------------


def day_start(day: date) -> datetime:
    """Midnight UTC at the start of ``day`` (aware: timestamptz compares correctly)."""
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def money_text(db: Any, expr: Any) -> Any:
    """``expr`` as text with ``MONEY`` decimals, formatted by the database.

    For a report of half a million rows this saves a float or Decimal to text
    conversion per cell in Python (about a quarter of the CSV's time), and
    lets the CSV output write the rows as they are fetched.
    """
    if db.dialect.name == "sqlite":
        # Typed as text, so that the CSV output knows it is formatted already.
        return type_coerce(func.printf(f"%.{MONEY}f", expr), String())
    return cast(cast(expr, Numeric(24, MONEY)), String)


def end_of(day: date) -> datetime:
    """The moment ``as_of`` means: the end of that UTC day, or now if that is later.

    Capping at now keeps reservations that will have expired by midnight in
    today's figures, as they are still held.
    """
    now = clock.now()
    # For today or later the moment is now (and 9999-12-31 has no next day).
    if day >= now.date():
        return now
    return day_start(day + timedelta(days=1))


def bad_parameter(name: str, message: str) -> APIError:
    return query_error(name, message)


def check_range(params: dict[str, Any]) -> None:
    start, end = params.get("date_from"), params.get("date_to")
    if start is not None and end is not None and start > end:
        raise bad_parameter("date_to", "must not be before date_from")


def item_id(sku: str) -> Any:
    return select(items.c.id).where(items.c.sku == sku).scalar_subquery()


def location_id(code: str) -> Any:
    return select(locations.c.id).where(locations.c.code == code).scalar_subquery()


def visible_location_ids(params: Any) -> Any | None:
    """Ids of the locations the caller may see, as a subquery; None for all.

    Rows about a location where the caller lacks ``stock.view`` are left out
    of every report (PRODUCT.md section 5, "Visibility"), and totals cover
    the visible locations.
    """
    visibility = params.visible("/locations", "stock.view")
    if visibility.everything:
        return None
    return select(locations.c.id).where(visibility.where(locations.c.code)).scalar_subquery()


def visible_at(params: Any, location_column: Any) -> list[Any]:
    """Conditions keeping the rows of ``location_column`` (a location id) the
    caller may see."""
    shown = visible_location_ids(params)
    return [] if shown is None else [location_column.in_(shown)]


def expired_holds(now: datetime) -> Any:
    """Quantity per level still counted as reserved by expired reservations.

    Expired reservations are released lazily (on the next change of that
    level or by ``plinth stock expire``); like ``GET /stock/{sku}``, reports
    do not count them.
    """
    r = reservations
    return (
        select(r.c.item_id, r.c.location_id, func.sum(r.c.quantity).label("quantity"))
        .where(r.c.status == "active", r.c.expires_at <= now)
        .group_by(r.c.item_id, r.c.location_id)
        .subquery("expired")
    )


def ledger_at(moment: datetime, sku: str | None, code: str | None) -> Any:
    """On hand per level at ``moment``: the sum of the ledger before it."""
    m = movements
    stmt = (
        select(m.c.item_id, m.c.location_id, func.sum(m.c.quantity).label("on_hand"))
        .where(m.c.created_at < moment)
        .group_by(m.c.item_id, m.c.location_id)
    )
    if sku is not None:
        stmt = stmt.where(m.c.item_id == item_id(sku))
    if code is not None:
        stmt = stmt.where(m.c.location_id == location_id(code))
    return stmt.subquery("ledger")


def held_at(moment: datetime) -> Any:
    """Reserved per level at ``moment``, rebuilt from the reservations' history.

    A reservation held its quantity from ``created_at`` until it expired
    (``expires_at``) or was confirmed or released (its ``updated_at``, the
    last change of an ended reservation); reservations are never deleted.
    """
    r = reservations
    # ``updated_at >= moment``, not ``>``.  A confirm at ``moment`` itself
    # (e.g. 00:00:00 of the next day) has its issue left out of the ledger sum
    # (``created_at < moment``), so the reservation must still count as held;
    # with ``>`` its units were neither issued nor reserved: available too high.
    return (
        select(r.c.item_id, r.c.location_id, func.sum(r.c.quantity).label("reserved"))
        .where(
            r.c.created_at < moment,
            r.c.expires_at > moment,
            or_(r.c.status == "active", r.c.updated_at >= moment),
        )
        .group_by(r.c.item_id, r.c.location_id)
        .subquery("held")
    )


# stock-on-hand --------------------------------------------------------------------


def stock_on_hand(db: Any, params: dict[str, Any]) -> Any:
    sku, code = params["sku"], params["location"]
    i, loc = items, locations
    if params["as_of"] is None:
        lv = levels
        expired = expired_holds(clock.now())
        on_hand: ColumnElement[Any] = lv.c.on_hand
        reserved = lv.c.reserved - func.coalesce(expired.c.quantity, 0)
        source = (
            lv.join(i, i.c.id == lv.c.item_id)
            .join(loc, loc.c.id == lv.c.location_id)
            .outerjoin(
                expired,
                and_(expired.c.item_id == lv.c.item_id, expired.c.location_id == lv.c.location_id),
            )
        )
    else:
        moment = end_of(params["as_of"])
        ledger, held = ledger_at(moment, sku, code), held_at(moment)
        on_hand = ledger.c.on_hand
        reserved = func.coalesce(held.c.reserved, 0)
        source = (
            ledger.join(i, i.c.id == ledger.c.item_id)
            .join(loc, loc.c.id == ledger.c.location_id)
            .outerjoin(
                held,
                and_(
                    held.c.item_id == ledger.c.item_id, held.c.location_id == ledger.c.location_id
                ),
            )
        )
    stmt = (
        select(
            i.c.sku,
            i.c.name,
            loc.c.code.label("location"),
            on_hand.label("on_hand"),
            reserved.label("reserved"),
            (on_hand - reserved).label("available"),
            money_text(db, i.c.unit_cost).label("unit_cost"),
            money_text(db, on_hand * i.c.unit_cost).label("value"),
        )
        .select_from(source)
        .order_by(i.c.sku, loc.c.code)
    )
    if sku is not None:
        stmt = stmt.where(i.c.sku == sku)
    if code is not None:
        stmt = stmt.where(loc.c.code == code)
    if not params["include_zero"]:
        stmt = stmt.where(or_(on_hand != 0, reserved != 0))
    return stmt.where(*visible_at(params, loc.c.id))


# low-stock ------------------------------------------------------------------------


def low_stock(db: Any, params: dict[str, Any]) -> Any:
    i, lv = items, levels
    expired = expired_holds(clock.now())
    totals = (
        select(
            lv.c.item_id,
            func.sum(lv.c.on_hand).label("on_hand"),
            func.sum(lv.c.reserved - func.coalesce(expired.c.quantity, 0)).label("reserved"),
        )
        .select_from(
            lv.outerjoin(
                expired,
                and_(expired.c.item_id == lv.c.item_id, expired.c.location_id == lv.c.location_id),
            )
        )
        .where(*visible_at(params, lv.c.location_id))
        .group_by(lv.c.item_id)
        .subquery("totals")
    )
    on_hand = func.coalesce(totals.c.on_hand, 0)
    reserved = func.coalesce(totals.c.reserved, 0)
    available = on_hand - reserved
    # Order up to twice the reorder point; as available <= reorder point on
    # every row, that is always at least the reorder point itself.  In
    # BIGINT: twice a 32-bit reorder point overflows PostgreSQL's INTEGER.
    suggested = 2 * cast(i.c.reorder_point, BigInteger) - available
    stmt = (
        select(
            i.c.sku,
            i.c.name,
            i.c.reorder_point,
            on_hand.label("on_hand"),
            reserved.label("reserved"),
            available.label("available"),
            (i.c.reorder_point - available).label("shortfall"),
            suggested.label("suggested_quantity"),
            i.c.unit_cost,
            (suggested * i.c.unit_cost).label("suggested_cost"),
        )
        .select_from(i.outerjoin(totals, totals.c.item_id == i.c.id))
        .where(i.c.active == true(), available <= i.c.reorder_point)
        .order_by(i.c.sku)
    )
    if params["sku"] is not None:
        stmt = stmt.where(i.c.sku == params["sku"])
    return stmt


# movements ------------------------------------------------------------------------


def movement_history(db: Any, params: dict[str, Any]) -> Any:
    check_range(params)
    m, i, loc = movements, items, locations
    # Each line keeps the level's on hand after it (its balance), written with
    # the line: no running sum over the whole ledger here, and every filter
    # may apply directly, since none of them changes a line's balance.
    stmt = (
        select(
            m.c.id,
            m.c.created_at,
            i.c.sku,
            i.c.name,
            loc.c.code.label("location"),
            m.c.kind,
            m.c.quantity,
            m.c.balance,
            m.c.reference,
            m.c.reason,
            m.c.actor,
        )
        .select_from(m.join(i, i.c.id == m.c.item_id).join(loc, loc.c.id == m.c.location_id))
        .where(*visible_at(params, m.c.location_id))
        .order_by(i.c.sku, loc.c.code, m.c.id)
    )
    if params["sku"] is not None:
        stmt = stmt.where(m.c.item_id == item_id(params["sku"]))
    if params["location"] is not None:
        stmt = stmt.where(m.c.location_id == location_id(params["location"]))
    if params["date_from"] is not None:
        stmt = stmt.where(m.c.created_at >= day_start(params["date_from"]))
    # The last day there is (9999-12-31) has no next day: no upper bound.
    if params["date_to"] is not None and params["date_to"] < date.max:
        stmt = stmt.where(m.c.created_at < day_start(params["date_to"] + timedelta(days=1)))
    if params["kind"] is not None:
        stmt = stmt.where(m.c.kind == params["kind"])
    if params["reference"] is not None:
        stmt = stmt.where(m.c.reference == params["reference"])
    return stmt


# stock-balance --------------------------------------------------------------------


def period_floor(day: date, period: str) -> date:
    if period == "day":
        return day
    if period == "week":
        return day - timedelta(days=day.weekday())
    return day.replace(day=1)


def period_after(day: date, period: str) -> date:
    """The first day of the period after the one starting on ``day``."""
    if period == "day":
        return day + timedelta(days=1)
    if period == "week":
        return day + timedelta(days=7)
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def period_start(dialect: str, moment: Any, period: str) -> ColumnElement[Any]:
    """SQL: the first day (a DATE) of the UTC period holding ``moment``; weeks start
    on Monday (ISO)."""
    if dialect == "sqlite":
        if period == "day":
            expr = func.date(moment)
        elif period == "week":
            # 'weekday 0' moves to the next Sunday (or stays on one); 6 days
            # back from there is that week's Monday.
            expr = func.date(moment, "weekday 0", "-6 days")
        else:
            expr = func.date(moment, "start of month")
        return type_coerce(expr, Date())
    return cast(func.date_trunc(period, func.timezone("UTC", moment)), Date)


def _balance_bounds(params: dict[str, Any]) -> tuple[date | None, date | None]:
    """date_from rounded down to its period's start, date_to up to the next one's."""
    check_range(params)
    period = params["period"]
    start = period_floor(params["date_from"], period) if params["date_from"] else None
    try:
        end = (
            period_after(period_floor(params["date_to"], period), period)
            if params["date_to"]
            else None
        )
    except OverflowError:
        # date_to in the last period before year 10000 has no period after
        # it: no end, as nothing can be recorded after it.
        end = None
    return start, end


def _tagged_movements(db: Any, params: dict[str, Any], before_start: bool) -> Any:
    """Movements up to the end of the range, each with the start of its period.

    With ``before_start`` the movements before the range are kept with a NULL
    period: they make the opening balance of the first period.
    """
    m = movements
    start, end = _balance_bounds(params)
    period = period_start(db.dialect.name, m.c.created_at, params["period"])
    if start is not None:
        period = type_coerce(
            case((m.c.created_at < day_start(start), null()), else_=period), Date()
        )
    stmt = select(m.c.item_id, m.c.location_id, m.c.quantity, period.label("period"))
    if end is not None:
        stmt = stmt.where(m.c.created_at < day_start(end))
    if start is not None and not before_start:
        stmt = stmt.where(m.c.created_at >= day_start(start))
    if params["sku"] is not None:
        stmt = stmt.where(m.c.item_id == item_id(params["sku"]))
    if params["location"] is not None:
        stmt = stmt.where(m.c.location_id == location_id(params["location"]))
    return stmt.where(*visible_at(params, m.c.location_id)).subquery("tagged")


def _in_out(quantity: Any) -> tuple[Any, Any]:
    return (
        func.sum(case((quantity > 0, quantity), else_=0)),
        func.sum(case((quantity < 0, -quantity), else_=0)),
    )


def stock_balance(db: Any, params: dict[str, Any]) -> Any:
    tagged = _tagged_movements(db, params, before_start=True)
    q = tagged.c.quantity
    quantity_in, quantity_out = _in_out(q)
    per_period = (
        select(
            tagged.c.item_id,
            tagged.c.location_id,
            tagged.c.period,
            quantity_in.label("qty_in"),
            quantity_out.label("qty_out"),
            func.sum(q).label("net"),
        )
        .group_by(tagged.c.item_id, tagged.c.location_id, tagged.c.period)
        .subquery("per_period")
    )
    p = per_period
    closing = func.sum(p.c.net).over(
        partition_by=(p.c.item_id, p.c.location_id),
        order_by=p.c.period.asc().nulls_first(),
        rows=(None, 0),
    )
    running = select(
        p.c.item_id,
        p.c.location_id,
        p.c.period,
        p.c.qty_in,
        p.c.qty_out,
        p.c.net,
        closing.label("closing"),
    ).subquery("running")
    r, i, loc = running, items, locations
    return (
        select(
            r.c.period,
            i.c.sku,
            i.c.name,
            loc.c.code.label("location"),
            (r.c.closing - r.c.net).label("opening"),
            r.c.qty_in.label("in"),
            r.c.qty_out.label("out"),
            r.c.closing,
        )
        .select_from(r.join(i, i.c.id == r.c.item_id).join(loc, loc.c.id == r.c.location_id))
        # The NULL period is the history before the range: only its
        # balance matters, carried into the first period's opening.
        .where(r.c.period.is_not(None))
        .order_by(r.c.period, i.c.sku, loc.c.code)
    )


def stock_balance_chart(db: Any, params: dict[str, Any]) -> Any:
    tagged = _tagged_movements(db, params, before_start=False)
    quantity_in, quantity_out = _in_out(tagged.c.quantity)
    return (
        select(tagged.c.period, quantity_in.label("in"), quantity_out.label("out"))
        .group_by(tagged.c.period)
        .order_by(tagged.c.period)
    )


# valuation ------------------------------------------------------------------------


def _valued_levels(params: dict[str, Any]) -> tuple[Any, Any, Any]:
    """(on hand, from clause, conditions) of the non-zero levels to value."""
    i, loc = items, locations
    if params["as_of"] is None:
        lv = levels
        on_hand = lv.c.on_hand
        source = lv.join(i, i.c.id == lv.c.item_id).join(loc, loc.c.id == lv.c.location_id)
    else:
        ledger = ledger_at(end_of(params["as_of"]), None, params["location"])
        on_hand = ledger.c.on_hand
        source = ledger.join(i, i.c.id == ledger.c.item_id).join(
            loc, loc.c.id == ledger.c.location_id
        )
    conditions = [on_hand != 0, *visible_at(params, loc.c.id)]
    if params["location"] is not None:
        conditions.append(loc.c.code == params["location"])
    return on_hand, source, conditions


def valuation(db: Any, params: dict[str, Any]) -> Any:
    i, loc = items, locations
    on_hand, source, conditions = _valued_levels(params)
    value = on_hand * i.c.unit_cost
    detail = (
        select(
            literal_column("'item'").label("line"),
            i.c.sku,
            i.c.name,
            loc.c.code.label("location"),
            on_hand.label("on_hand"),
            i.c.unit_cost,
            value.label("value"),
        )
        .select_from(source)
        .where(*conditions)
    )
    total: Any = (
        select(
            literal_column("'total'").label("line"),
            null().label("sku"),
            null().label("name"),
            null().label("location"),
            func.coalesce(func.sum(on_hand), 0).label("on_hand"),
            null().label("unit_cost"),
            func.coalesce(func.sum(value), 0).label("value"),
        )
        .select_from(source)
        .where(*conditions)
    )
    lines = union_all(detail, total).subquery("lines")
    return (
        select(*lines.c)
        # 'item' sorts before 'total': the total is the last line.
        .order_by(lines.c.line, lines.c.sku, lines.c.location)
    )


def valuation_chart(db: Any, params: dict[str, Any]) -> Any:
    i, loc = items, locations
    on_hand, source, conditions = _valued_levels(params)
    return (
        select(loc.c.code.label("location"), func.sum(on_hand * i.c.unit_cost).label("value"))
        .select_from(source)
        .where(*conditions)
        .group_by(loc.c.code)
        .order_by(loc.c.code)
    )


# Registration ---------------------------------------------------------------------


def includeme(config: Any) -> None:
    add = config.add_report
    add(
        "stock-on-hand",
        stock_on_hand,
        title="Stock on hand",
        description="On hand, reserved and available per item and location, valued at "
        "the current unit cost.  With as_of, on hand is the sum of the "
        "ledger up to the end of that UTC day and reserved is rebuilt from "
        "the reservations' history.  Pairs with nothing on hand or reserved "
        "are left out unless include_zero=true.",
        parameters=[
            AS_OF,
            SKU,
            LOCATION,
            {
                "name": "include_zero",
                "type": "boolean",
                "default": False,
                "description": "also list item x location pairs with nothing on hand or reserved",
            },
        ],
        columns=[
            ("sku", "string"),
            ("name", "string"),
            ("location", "string"),
            ("on_hand", "integer"),
            ("reserved", "integer"),
            ("available", "integer"),
            {"name": "unit_cost", "type": "decimal", "scale": MONEY},
            {
                "name": "value",
                "type": "decimal",
                "scale": MONEY,
                "description": "on_hand x unit_cost",
            },
        ],
    )
    add(
        "low-stock",
        low_stock,
        title="Low stock and reorder suggestions",
        description="Active items whose available quantity over all locations is at or "
        "below their reorder point.  shortfall = reorder_point - available; "
        "suggested_quantity = 2 x reorder_point - available (order up to "
        "twice the reorder point, so never less than the reorder point); "
        "suggested_cost = suggested_quantity x unit_cost.",
        parameters=[SKU],
        columns=[
            ("sku", "string"),
            ("name", "string"),
            ("reorder_point", "integer"),
            ("on_hand", "integer"),
            ("reserved", "integer"),
            ("available", "integer"),
            ("shortfall", "integer"),
            ("suggested_quantity", "integer"),
            {"name": "unit_cost", "type": "decimal", "scale": MONEY},
            {"name": "suggested_cost", "type": "decimal", "scale": MONEY},
        ],
    )
    add(
        "movements",
        movement_history,
        title="Movement history",
        description="The ledger, by item, location and time, with the running on-hand "
        "balance of each item at each location after every movement.  The "
        "balance counts the whole history, whatever the filters.",
        parameters=[
            SKU,
            LOCATION,
            {
                "name": "kind",
                "type": "string",
                "enum": list(KINDS),
                "description": "only this kind of movement",
            },
            {
                "name": "reference",
                "type": "string",
                "minLength": 1,
                "maxLength": 200,
                "description": "only movements with this reference",
            },
            DATE_FROM,
            DATE_TO,
        ],
        columns=[
            ("id", "integer"),
            ("created_at", "datetime"),
            ("sku", "string"),
            ("name", "string"),
            ("location", "string"),
            ("kind", "string"),
            ("quantity", "integer"),
            {
                "name": "balance",
                "type": "integer",
                "description": "on hand at this location after this movement",
            },
            ("reference", "string"),
            ("reason", "string"),
            ("actor", "string"),
        ],
    )
    add(
        "stock-balance",
        stock_balance,
        title="Stock balance per period",
        description="Opening, in, out and closing per UTC period (day, week from Monday, "
        "or month) for each item and location that moved in it.  in sums the "
        "positive movements, out the negative ones (as a positive number); "
        "closing = opening + in - out.  date_from is rounded down to the start "
        "of its period and date_to up to the end of its period.",
        parameters=[
            {
                "name": "period",
                "type": "string",
                "enum": list(PERIODS),
                "default": "month",
                "description": "day, week or month",
            },
            DATE_FROM,
            DATE_TO,
            SKU,
            LOCATION,
        ],
        columns=[
            ("period", "date"),
            ("sku", "string"),
            ("name", "string"),
            ("location", "string"),
            ("opening", "integer"),
            ("in", "integer"),
            ("out", "integer"),
            ("closing", "integer"),
        ],
        chart={
            "kind": "bar",
            "x": "period",
            "y": ["in", "out"],
            "title": "Stock in and out per period",
            "x_label": "period",
            "y_label": "quantity",
            "query": stock_balance_chart,
            "x_period": "period",
        },
    )
    add(
        "valuation",
        valuation,
        title="Stock valuation",
        description="On hand x current unit cost per item and location, then one line "
        "with line='total' holding the total quantity and value.  With as_of, "
        "on hand is rebuilt from the ledger at the end of that UTC day (still "
        "at today's unit cost: costs have no history).",
        parameters=[AS_OF, LOCATION],
        columns=[
            {"name": "line", "type": "string", "description": "item, or total"},
            ("sku", "string"),
            ("name", "string"),
            ("location", "string"),
            ("on_hand", "integer"),
            {"name": "unit_cost", "type": "decimal", "scale": MONEY},
            {"name": "value", "type": "decimal", "scale": MONEY},
        ],
        chart={
            "kind": "bar",
            "x": "location",
            "y": ["value"],
            "title": "Stock value per location",
            "y_label": "value",
            "query": valuation_chart,
        },
    )
