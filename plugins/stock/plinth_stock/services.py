"""Stock domain logic: every change that reduces availability is a guarded update.

Availability is ``on_hand - reserved``.  A reservation that has expired stops
counting at once: every operation that needs availability first releases the
expired reservations of that level (a guarded update, so two transactions
cannot release the same one twice), and reads subtract them on the fly.

The database enforces on hand >= 0, reserved >= 0 and reserved <= on hand; the
``WHERE on_hand - reserved >= :quantity`` guards make a request that would
break them update nothing, which becomes 409 insufficient_stock.  Under
PostgreSQL's READ COMMITTED a guarded UPDATE waits for a concurrent one on the
same row and re-checks its condition against the committed row; under SQLite
writers are serialized by ``BEGIN IMMEDIATE``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Container, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, cast

from sqlalchemy import (
    Integer,
    Table,
    and_,
    bindparam,
    func,
    insert,
    literal,
    literal_column,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from plinth.api import VERSION_COLUMN, Visibility, clock

from . import events
from .models import Item, Location, Movement, Reservation, StockLevel

MAX_QUANTITY = 2**31 - 1
MAX_COST = Decimal("9999999999.9999")

Notify = Callable[[Any], None]
RESERVATIONS = cast(Table, Reservation.__table__)
LEVELS = cast(Table, StockLevel.__table__)
MOVEMENTS = cast(Table, Movement.__table__)
# Built once, as the hot path's other statements.
RESERVATION_INSERT = RESERVATIONS.insert()
LEDGER_INSERT = MOVEMENTS.insert().returning(MOVEMENTS.c.id)
QUANTITY = bindparam("quantity", type_=Integer)


def _no_notify(event: Any) -> None:
    return None


class StockError(Exception):
    """A stock rule was broken; ``status`` is the HTTP status views answer."""

    def __init__(self, status: int, code: str, message: str, details: dict[str, Any] | None = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details or {}


def iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def money(value: Any) -> str:
    return f"{Decimal(value):.4f}"


def parse_cost(value: Any) -> Decimal:
    if isinstance(value, bool):
        raise StockError(
            400,
            "invalid_request",
            "unit_cost must be a decimal number",
            {"errors": [{"field": "unit_cost", "message": "not a number"}]},
        )
    try:
        cost = Decimal(str(value))
    except InvalidOperation:
        cost = Decimal("NaN")
    if (
        not cost.is_finite()
        or cost < 0
        or cost > MAX_COST
        or cost != cost.quantize(Decimal("0.0001"))
    ):
        raise StockError(
            400,
            "invalid_request",
            "unit_cost must be a non-negative decimal with at most 4 decimals",
            {"errors": [{"field": "unit_cost", "message": "bad decimal"}]},
        )
    return cost


# Items ----------------------------------------------------------------------


def item_dict(item: Item) -> dict[str, Any]:
    return {
        "sku": item.sku,
        "name": item.name,
        "unit": item.unit,
        "reorder_point": item.reorder_point,
        "unit_cost": money(item.unit_cost),
        "active": item.active,
    }


def item_etag(version: int) -> str:
    return f"item-{version}"


def expired_reserved(now: Any) -> Any:
    """SQL: quantity held by expired but not yet released reservations of a level."""
    r = Reservation.__table__
    # The level's columns are named with their table in the SQL text itself:
    # in an UPDATE's RETURNING SQLAlchemy renders SQLite's column names bare,
    # this subquery's too, and a bare item_id here would be the reservation's
    # own (every level's expired reservations, not this level's).
    level = StockLevel.__tablename__
    return (
        select(func.coalesce(func.sum(r.c.quantity), 0))
        .where(
            r.c.item_id == literal_column(f"{level}.item_id", Integer),
            r.c.location_id == literal_column(f"{level}.location_id", Integer),
            r.c.status == "active",
            r.c.expires_at <= now,
        )
        .scalar_subquery()
    )


def _snapshot_query() -> Any:
    i, lv, loc = Item.__table__, StockLevel.__table__, Location.__table__
    return (
        select(
            i.c.sku,
            i.c.name,
            i.c.unit,
            i.c.reorder_point,
            i.c.unit_cost,
            i.c.active,
            i.c.version,
            loc.c.code,
            lv.c.on_hand,
            (lv.c.reserved - expired_reserved(bindparam("now"))).label("reserved"),
        )
        .select_from(
            i.outerjoin(lv, lv.c.item_id == i.c.id).outerjoin(loc, loc.c.id == lv.c.location_id)
        )
        .where(i.c.sku == bindparam("sku"))
        .order_by(loc.c.code)
    )


# Built once: on the hot path, constructing a statement costs more than running it.
SNAPSHOT_QUERY = _snapshot_query()
# The same, with the security version: an authorized read in one statement.
SNAPSHOT_WITH_VERSION_QUERY = SNAPSHOT_QUERY.add_columns(VERSION_COLUMN)


def snapshot_rows(db: Session, sku: str, with_version: bool = False) -> Sequence[Any]:
    """The rows :func:`item_snapshot` shapes (one per level), in one statement."""
    query = SNAPSHOT_WITH_VERSION_QUERY if with_version else SNAPSHOT_QUERY
    # On the session's connection: the ORM layer adds cost and nothing here.
    return db.connection().execute(query, {"sku": sku, "now": clock.now()}).all()


# Given the codes of locations, those whose levels the caller may see.
VisibleCodes = Callable[[list[str]], Container[str]]


def item_snapshot(
    db: Session,
    sku: str,
    now: datetime | None = None,
    rows: Sequence[Any] | None = None,
    visible: VisibleCodes | None = None,
) -> dict[str, Any] | None:
    """The item with its levels per location, in one statement (or from
    ``rows`` that :func:`snapshot_rows` read already).

    With ``visible``, levels at other locations are left out, and so are they
    from the totals.
    """
    if rows is None:
        rows = (
            db.connection().execute(SNAPSHOT_QUERY, {"sku": sku, "now": now or clock.now()}).all()
        )
    if not rows:
        return None
    first = rows[0]
    codes = [r.code for r in rows if r.code is not None]
    shown = visible(codes) if visible is not None and codes else codes
    levels = [
        {
            "location": r.code,
            "on_hand": r.on_hand,
            "reserved": r.reserved,
            "available": r.on_hand - r.reserved,
        }
        for r in rows
        if r.code is not None and r.code in shown
    ]
    on_hand = sum(level["on_hand"] for level in levels)
    reserved = sum(level["reserved"] for level in levels)
    return {
        "sku": first.sku,
        "name": first.name,
        "unit": first.unit,
        "reorder_point": first.reorder_point,
        "unit_cost": money(first.unit_cost),
        "active": first.active,
        "stock": on_hand - reserved,
        "on_hand": on_hand,
        "reserved": reserved,
        "locations": levels,
        "etag": item_etag(first.version),
    }


def get_item(db: Session, sku: str, for_update: bool = False) -> Item | None:
    stmt = select(Item).where(Item.sku == sku)
    if for_update:
        # PUT reads the row it will change (If-Match, version + 1) under a
        # row lock, so that two concurrent PUTs with one ETag on PostgreSQL
        # cannot both pass the check and both write (a lost update).
        stmt = stmt.with_for_update()
    return db.scalars(stmt).first()


def _insert_once(db: Session, row: Any) -> bool:
    """Insert ``row`` unless a concurrent transaction inserted its key first.

    Two concurrent PUTs creating one item (or location) both find nothing
    and both insert; the second would fail on the unique key.  The insert
    runs in a savepoint, so the loser goes on to update the row the winner
    created (200).
    """
    try:
        with db.begin_nested():
            db.add(row)
            db.flush()
    except IntegrityError:
        return False
    return True


def put_item(db: Session, sku: str, data: dict[str, Any]) -> tuple[Item, bool]:
    item = get_item(db, sku, for_update=True)
    now = clock.now()
    cost = parse_cost(data["unit_cost"]) if "unit_cost" in data else None
    if item is None:
        new = Item(
            sku=sku,
            name=data["name"],
            unit=data.get("unit", "each"),
            reorder_point=data.get("reorder_point", 0),
            unit_cost=cost if cost is not None else Decimal(0),
            active=data.get("active", True),
            version=1,
            created_at=now,
            updated_at=now,
        )
        if _insert_once(db, new):
            return new, True
        item = get_item(db, sku, for_update=True)
        assert item is not None
    item.name = data["name"]
    for key in ("unit", "reorder_point", "active"):
        if key in data:
            setattr(item, key, data[key])
    if cost is not None:
        item.unit_cost = cost
    item.version += 1
    item.updated_at = now
    db.flush()
    return item, False


def list_items(
    db: Session,
    limit: int,
    after: str | None,
    location: str | None = None,
    below_reorder: bool = False,
    text: str | None = None,
    visible: Visibility | None = None,
) -> list[dict[str, Any]]:
    """Items by SKU with their totals; filters: a location, below reorder point, text.

    With ``visible`` (which locations the caller may see), totals and the
    location filter cover only those locations.
    """
    now = clock.now()
    i, lv, loc = Item.__table__, StockLevel.__table__, Location.__table__
    reserved = lv.c.reserved - expired_reserved(now)
    on_hand = func.coalesce(func.sum(lv.c.on_hand), 0)
    held = func.coalesce(func.sum(reserved), 0)
    level_of_item = lv.c.item_id == i.c.id
    if visible is not None and not visible.everything:
        # In the join condition: an item whose levels are all hidden is
        # still listed, with zero totals.
        level_of_item = and_(
            level_of_item,
            lv.c.location_id.in_(
                select(loc.c.id).where(visible.where(loc.c.code)).scalar_subquery()
            ),
        )
    join = i.outerjoin(lv, level_of_item)
    stmt = select(
        i.c.sku,
        i.c.name,
        i.c.unit,
        i.c.reorder_point,
        i.c.unit_cost,
        i.c.active,
        on_hand.label("on_hand"),
        held.label("reserved"),
    )
    if location is not None:
        join = join.outerjoin(loc, loc.c.id == lv.c.location_id)
        stmt = stmt.where(loc.c.code == location)
    stmt = stmt.select_from(join).group_by(i.c.id).order_by(i.c.sku).limit(limit + 1)
    if after is not None:
        stmt = stmt.where(i.c.sku > after)
    if text:
        # LIKE wildcards are escaped, so that q=_ (legal in a SKU) or q=% is a
        # substring search, not "any character" / "anything".
        needle = text.lower()
        stmt = stmt.where(
            or_(
                func.lower(i.c.sku).contains(needle, autoescape=True),
                func.lower(i.c.name).contains(needle, autoescape=True),
            )
        )
    if below_reorder:
        stmt = stmt.having(on_hand - held <= i.c.reorder_point)
    # PostgreSQL's SUM over integers is NUMERIC (a Decimal here), which the
    # JSON renderer cannot serialize: make it int.
    return [
        {
            "sku": r.sku,
            "name": r.name,
            "unit": r.unit,
            "reorder_point": r.reorder_point,
            "unit_cost": money(r.unit_cost),
            "active": r.active,
            "on_hand": int(r.on_hand),
            "reserved": int(r.reserved),
            "stock": int(r.on_hand - r.reserved),
        }
        for r in db.execute(stmt)
    ]


# Locations ------------------------------------------------------------------


def location_dict(location: Location) -> dict[str, Any]:
    return {"code": location.code, "name": location.name}


def location_etag(version: int) -> str:
    return f"location-{version}"


def get_location(db: Session, code: str, for_update: bool = False) -> Location | None:
    stmt = select(Location).where(Location.code == code)
    if for_update:
        stmt = stmt.with_for_update()  # locked, as in get_item
    return db.scalars(stmt).first()


def put_location(db: Session, code: str, name: str) -> tuple[Location, bool]:
    location = get_location(db, code, for_update=True)
    now = clock.now()
    if location is None:
        new = Location(code=code, name=name, version=1, created_at=now, updated_at=now)
        if _insert_once(db, new):  # a concurrent PUT may create it first
            return new, True
        location = get_location(db, code, for_update=True)
        assert location is not None
    location.name = name
    location.version += 1
    location.updated_at = now
    db.flush()
    return location, False


def list_locations(
    db: Session, limit: int, after: str | None, visible: Visibility | None = None
) -> list[Location]:
    stmt = select(Location).order_by(Location.code).limit(limit + 1)
    if visible is not None and not visible.everything:
        stmt = stmt.where(visible.where(Location.code))
    if after is not None:
        stmt = stmt.where(Location.code > after)
    return list(db.scalars(stmt))


def location_levels(
    db: Session, location: Location, limit: int, after: str | None
) -> list[dict[str, Any]]:
    now = clock.now()
    i, lv = Item.__table__, StockLevel.__table__
    stmt = (
        select(
            i.c.sku,
            i.c.name,
            lv.c.on_hand,
            (lv.c.reserved - expired_reserved(now)).label("reserved"),
        )
        .select_from(lv.join(i, i.c.id == lv.c.item_id))
        .where(lv.c.location_id == location.id)
        .order_by(i.c.sku)
        .limit(limit + 1)
    )
    if after is not None:
        stmt = stmt.where(i.c.sku > after)
    return [
        {
            "sku": r.sku,
            "name": r.name,
            "on_hand": r.on_hand,
            "reserved": r.reserved,
            "available": r.on_hand - r.reserved,
        }
        for r in db.execute(stmt)
    ]


# Levels and movements -------------------------------------------------------


@dataclass(frozen=True)
class ItemRef:
    """What a movement needs of an item (an :class:`Item` serves as well)."""

    id: int
    sku: str


@dataclass(frozen=True)
class LocationRef:
    """What a movement needs of a location (a :class:`Location` serves as well)."""

    id: int
    code: str


@dataclass
class Place:
    """An item at a location: what every movement is about."""

    item: Item | ItemRef
    location: Location | LocationRef

    @property
    def key(self) -> dict[str, Any]:
        return {"sku": self.item.sku, "location": self.location.code}


def _place_query() -> Any:
    i, loc = Item.__table__, Location.__table__
    return (
        select(i.c.id.label("item_id"), i.c.sku, loc.c.id.label("location_id"), loc.c.code)
        .select_from(i.join(loc, loc.c.code == bindparam("code")))
        .where(i.c.sku == bindparam("sku"))
    )


# Built once: a movement or reservation reads its place on every request.
PLACE_QUERY = _place_query()
# The same, with the security version: a write's authorization and its place
# in one statement (see resources.LevelResource.prefetch_with_version).
PLACE_WITH_VERSION_QUERY = PLACE_QUERY.add_columns(VERSION_COLUMN)


def _place_of(row: Any) -> Place:
    return Place(ItemRef(row.item_id, row.sku), LocationRef(row.location_id, row.code))


def place(db: Session, sku: str, code: str) -> Place:
    row = db.connection().execute(PLACE_QUERY, {"sku": sku, "code": code}).first()
    if row is None:
        missing = "location" if get_item(db, sku) is not None else "item"
        what = f"location {code!r}" if missing == "location" else f"item {sku!r}"
        raise StockError(404, "not_found", f"no {what}", {"sku": sku, "location": code})
    return _place_of(row)


def place_with_version(db: Session, sku: str, code: str) -> tuple[Place, int] | None:
    """The place and the security version in one statement; None when the
    item or the location does not exist (then :func:`place` says which)."""
    row = db.connection().execute(PLACE_WITH_VERSION_QUERY, {"sku": sku, "code": code}).first()
    return (_place_of(row), int(row.security_version)) if row is not None else None


def level_snapshot(db: Session, where: Place, now: datetime | None = None) -> dict[str, Any]:
    now = now or clock.now()
    lv = StockLevel.__table__
    row = db.execute(
        select(lv.c.on_hand, (lv.c.reserved - expired_reserved(now)).label("reserved")).where(
            lv.c.item_id == where.item.id, lv.c.location_id == where.location.id
        )
    ).first()
    on_hand, reserved = (row.on_hand, row.reserved) if row is not None else (0, 0)
    return {**where.key, "on_hand": on_hand, "reserved": reserved, "available": on_hand - reserved}


def ensure_level(db: Session, item_id: int, location_id: int) -> None:
    dialect = db.get_bind().dialect.name
    values = {"item_id": item_id, "location_id": location_id, "on_hand": 0, "reserved": 0}
    if dialect == "postgresql":
        stmt: Any = pg_insert(StockLevel).values(**values).on_conflict_do_nothing()
    elif dialect == "sqlite":
        stmt = sqlite_insert(StockLevel).values(**values).on_conflict_do_nothing()
    else:  # pragma: no cover - other databases are not supported
        stmt = insert(StockLevel).values(**values)
    db.execute(stmt)


def _release_query() -> Any:
    r = RESERVATIONS
    return (
        update(r)
        .where(
            r.c.item_id == bindparam("item"),
            r.c.location_id == bindparam("place"),
            r.c.status == "active",
            r.c.expires_at <= bindparam("now"),
        )
        .values(status="expired", updated_at=bindparam("now"))
        .returning(r.c.id, r.c.quantity)
    )


def _guarded_query(column: str, sign: int, guard: Any) -> Any:
    """``UPDATE`` a level's ``column`` by ``sign`` times ``:quantity`` where
    ``guard`` holds, returning the level as a read shows it (expired
    reservations no longer held)."""
    lv = LEVELS
    change = lv.c[column] + QUANTITY if sign > 0 else lv.c[column] - QUANTITY
    return (
        update(lv)
        .where(lv.c.item_id == bindparam("item"), lv.c.location_id == bindparam("place"), guard)
        .values({column: change})
        .returning(
            lv.c.on_hand, (lv.c.reserved - expired_reserved(bindparam("now"))).label("reserved")
        )
    )


# Built once: these run on every movement or reservation.
RELEASE_QUERY = _release_query()
# Availability is taken only where there is that much of it.
TAKE_QUERY = _guarded_query("on_hand", -1, LEVELS.c.on_hand - LEVELS.c.reserved >= QUANTITY)
# on_hand is a 32-bit INTEGER column.  Unguarded, a receipt taking it past
# 2**31 - 1 would be an error on PostgreSQL and silently stored on SQLite;
# guarded, it changes nothing and is a 409.
PUT_QUERY = _guarded_query("on_hand", 1, LEVELS.c.on_hand <= MAX_QUANTITY - QUANTITY)
RESERVE_QUERY = _guarded_query("reserved", 1, LEVELS.c.on_hand - LEVELS.c.reserved >= QUANTITY)


def release_expired(
    db: Session, item_id: int, location_id: int, now: datetime, notify: Notify = _no_notify
) -> int:
    """Release the level's expired reservations; returns the quantity freed."""
    rows = db.execute(RELEASE_QUERY, {"item": item_id, "place": location_id, "now": now}).all()
    freed = sum(q for _, q in rows)
    if freed:
        db.execute(
            update(StockLevel)
            .where(StockLevel.item_id == item_id, StockLevel.location_id == location_id)
            .values(reserved=StockLevel.reserved - freed)
        )
        for reservation_id, quantity in rows:
            notify(events.ReservationExpired(reservation_id, quantity))
    return freed


def insufficient(db: Session, where: Place, requested: int) -> StockError:
    snapshot = level_snapshot(db, where)
    return StockError(
        409,
        "insufficient_stock",
        f"only {snapshot['available']} of {where.item.sku} available at "
        f"{where.location.code}, {requested} requested",
        {**where.key, "requested": requested, "available": snapshot["available"]},
    )


def _guarded(db: Session, query: Any, where: Place, quantity: int, now: datetime) -> Any:
    """Run a guarded update of ``where``'s level; its row, or None if the guard failed."""
    params = {"item": where.item.id, "place": where.location.id, "quantity": quantity, "now": now}
    return db.execute(query, params).first()


def _level(where: Place, row: Any) -> dict[str, Any]:
    return {
        **where.key,
        "on_hand": row.on_hand,
        "reserved": row.reserved,
        "available": row.on_hand - row.reserved,
    }


def _take(db: Session, where: Place, quantity: int, now: datetime) -> dict[str, Any]:
    """Reduce on hand by ``quantity`` if that much is available, else 409;
    returns the level after."""
    row = _guarded(db, TAKE_QUERY, where, quantity, now)
    if row is None:
        raise insufficient(db, where, quantity)
    return _level(where, row)


def _put(db: Session, where: Place, quantity: int, now: datetime) -> dict[str, Any]:
    """Add ``quantity`` to on hand (creating the level on its first receipt);
    returns the level after."""
    row = _guarded(db, PUT_QUERY, where, quantity, now)
    if row is None:
        # No level yet, or the guard: create the level if missing, and try once more.
        ensure_level(db, where.item.id, where.location.id)
        row = _guarded(db, PUT_QUERY, where, quantity, now)
    if row is None:
        raise StockError(
            409,
            "quantity_limit",
            f"on hand of {where.item.sku} at {where.location.code} would exceed {MAX_QUANTITY}",
            {**where.key, "requested": quantity, "maximum": MAX_QUANTITY},
        )
    return _level(where, row)


def _ledger(
    db: Session,
    where: Place,
    kind: str,
    quantity: int,
    actor: str | None,
    reason: str | None = None,
    reference: str | None = None,
    reservation_id: str | None = None,
    now: datetime | None = None,
    *,
    balance: int,
) -> Movement:
    """Write a ledger line; ``balance`` is the level's on hand after it, read
    by the guarded update that changed the level (whose row stays locked to
    the commit, so lines of one level get their ids in the order of their
    balances)."""
    values = {
        "item_id": where.item.id,
        "location_id": where.location.id,
        "kind": kind,
        "quantity": quantity,
        "balance": balance,
        "reason": reason,
        "reference": reference,
        "actor": actor,
        "reservation_id": reservation_id,
        "created_at": now or clock.now(),
    }
    # A Core insert, as for reservations; the ledger line's id comes back.
    movement_id = db.execute(LEDGER_INSERT, values).scalar_one()
    return Movement(id=movement_id, **values)  # transient: what the answer shows


def movement_dict(movement: Movement, sku: str, code: str) -> dict[str, Any]:
    return {
        "id": movement.id,
        "sku": sku,
        "location": code,
        "kind": movement.kind,
        "quantity": movement.quantity,
        "reason": movement.reason,
        "reference": movement.reference,
        "actor": movement.actor,
        "reservation_id": movement.reservation_id,
        "created_at": iso(movement.created_at),
    }


def record_movement(
    db: Session,
    where: Place,
    kind: str,
    quantity: int,
    actor: str | None,
    reason: str | None = None,
    reference: str | None = None,
    notify: Notify = _no_notify,
) -> dict[str, Any]:
    """A receipt (+), an issue (-) or an adjustment (signed) at one place."""
    now = clock.now()
    if kind == "receipt":
        change = quantity
    elif kind == "issue":
        change = -quantity
    else:
        change = quantity
    if change < 0:
        release_expired(db, where.item.id, where.location.id, now, notify)
        level = _take(db, where, -change, now)
    else:
        level = _put(db, where, change, now)
    movement = _ledger(
        db, where, kind, change, actor, reason, reference, now=now, balance=level["on_hand"]
    )
    notify(
        events.StockChanged(
            where.item.sku, where.location.code, kind, change, level["on_hand"], level["reserved"]
        )
    )
    return {
        "movement": movement_dict(movement, where.item.sku, where.location.code),
        "level": level,
    }


def transfer(
    db: Session,
    out_place: Place,
    in_place: Place,
    quantity: int,
    reference: str | None,
    actor: str | None,
    notify: Notify = _no_notify,
) -> dict[str, Any]:
    """Move stock of one item between two places: one atomic pair of ledger lines."""
    item, source, target = out_place.item, out_place.location, in_place.location
    if source.id == target.id:
        raise StockError(
            400,
            "invalid_request",
            "from and to must be different locations",
            {"errors": [{"field": "to", "message": "same as from"}]},
        )
    now = clock.now()
    release_expired(db, item.id, source.id, now, notify)
    # Both levels first (their row locks in one order), then a ledger line each.
    legs = (
        (out_place, "transfer_out", -quantity, _take(db, out_place, quantity, now)),
        (in_place, "transfer_in", quantity, _put(db, in_place, quantity, now)),
    )
    movements, levels = [], []
    for where, kind, change, level in legs:
        line = _ledger(
            db, where, kind, change, actor, None, reference, now=now, balance=level["on_hand"]
        )
        code = where.location.code
        movements.append(movement_dict(line, item.sku, code))
        levels.append(level)
        notify(
            events.StockChanged(
                item.sku, code, "transfer", change, level["on_hand"], level["reserved"]
            )
        )
    return {
        "sku": item.sku,
        "from": source.code,
        "to": target.code,
        "quantity": quantity,
        "reference": reference,
        "movements": movements,
        "levels": levels,
    }


def list_movements(
    db: Session, where: Place, limit: int, before: int | None
) -> list[dict[str, Any]]:
    stmt = (
        select(Movement)
        .where(Movement.item_id == where.item.id, Movement.location_id == where.location.id)
        .order_by(Movement.id.desc())
        .limit(limit + 1)
    )
    if before is not None:
        stmt = stmt.where(Movement.id < before)
    return [movement_dict(m, where.item.sku, where.location.code) for m in db.scalars(stmt)]


# Reservations -----------------------------------------------------------------


def reservation_dict(
    reservation: Reservation, sku: str, code: str, now: datetime | None = None
) -> dict[str, Any]:
    now = now or clock.now()
    status = reservation.status
    if status == "active" and reservation.expires_at <= now:
        status = "expired"
    return {
        "id": reservation.id,
        "sku": sku,
        "location": code,
        "quantity": reservation.quantity,
        "reference": reservation.reference,
        "status": status,
        "expires_at": iso(reservation.expires_at),
        "created_at": iso(reservation.created_at),
        "actor": reservation.actor,
    }


def reserve(
    db: Session,
    where: Place,
    quantity: int,
    reference: str,
    ttl: int,
    actor: str | None,
    notify: Notify = _no_notify,
) -> dict[str, Any]:
    now = clock.now()
    release_expired(db, where.item.id, where.location.id, now, notify)
    # The reservation row goes in before the guarded update, which then is the
    # last statement: concurrent reservations of one level queue on its row
    # lock, held from that update to the commit, so it is held for as short a
    # time as possible.  A refused reservation rolls the row back with the rest.
    values = {
        "id": uuid.uuid4().hex,
        "item_id": where.item.id,
        "location_id": where.location.id,
        "quantity": quantity,
        "reference": reference,
        "status": "active",
        "actor": actor,
        "expires_at": now + timedelta(seconds=ttl),
        "created_at": now,
        "updated_at": now,
    }
    # A Core insert (through the session, which marks it changed for the
    # transaction's commit): the ORM's unit of work would cost more than the
    # rest of the request's Python, and adds nothing here.
    db.execute(RESERVATION_INSERT, values)
    reservation = Reservation(**values)  # transient: what the answer shows
    row = _guarded(db, RESERVE_QUERY, where, quantity, now)
    if row is None:
        raise insufficient(db, where, quantity)
    level = _level(where, row)
    notify(
        events.StockChanged(
            where.item.sku,
            where.location.code,
            "reservation",
            0,
            level["on_hand"],
            level["reserved"],
        )
    )
    return {
        **reservation_dict(reservation, where.item.sku, where.location.code, now),
        "level": level,
    }


def reservation_place(db: Session, reservation_id: str) -> tuple[Reservation, Place] | None:
    row = db.execute(
        select(Reservation, Item, Location)
        .join(Item, Item.id == Reservation.item_id)
        .join(Location, Location.id == Reservation.location_id)
        .where(Reservation.id == reservation_id)
    ).first()
    if row is None:
        return None
    return row[0], Place(row[1], row[2])


def _finish(
    db: Session,
    reservation: Reservation,
    where: Place,
    status: str,
    actor: str | None,
    notify: Notify,
) -> dict[str, Any]:
    """Move an active, unexpired reservation to ``status``; 409 otherwise."""
    now = clock.now()
    r = RESERVATIONS
    done = db.execute(
        update(r)
        .where(r.c.id == reservation.id, r.c.status == "active", r.c.expires_at > now)
        .values(status=status, updated_at=now)
    )
    if done.rowcount != 1:  # type: ignore[attr-defined]
        db.refresh(reservation)
        current = reservation_dict(reservation, where.item.sku, where.location.code, now)
        raise StockError(
            409,
            f"reservation_{current['status']}",
            f"the reservation is {current['status']}: it cannot be "
            f"{'confirmed' if status == 'confirmed' else 'released'}",
            {"id": reservation.id, "status": current["status"]},
        )
    quantity = reservation.quantity
    values: dict[str, Any] = {"reserved": StockLevel.reserved - quantity}
    if status == "confirmed":
        values["on_hand"] = StockLevel.on_hand - quantity
    db.execute(
        update(StockLevel)
        .where(StockLevel.item_id == where.item.id, StockLevel.location_id == where.location.id)
        .values(**values)
    )
    # Read before the ledger line, which does not change it: the line keeps
    # its on hand.
    level = level_snapshot(db, where, now)
    movement = None
    if status == "confirmed":
        movement = _ledger(
            db,
            where,
            "reservation_confirmed",
            -quantity,
            actor,
            None,
            reservation.reference,
            reservation.id,
            now,
            balance=level["on_hand"],
        )
    db.refresh(reservation)
    notify(
        events.StockChanged(
            where.item.sku,
            where.location.code,
            "issue" if movement is not None else "release",
            -quantity if movement is not None else 0,
            level["on_hand"],
            level["reserved"],
        )
    )
    result = {
        **reservation_dict(reservation, where.item.sku, where.location.code, now),
        "level": level,
    }
    if movement is not None:
        result["movement"] = movement_dict(movement, where.item.sku, where.location.code)
    return result


def confirm(
    db: Session,
    reservation: Reservation,
    where: Place,
    actor: str | None,
    notify: Notify = _no_notify,
) -> dict[str, Any]:
    return _finish(db, reservation, where, "confirmed", actor, notify)


def release(
    db: Session,
    reservation: Reservation,
    where: Place,
    actor: str | None,
    notify: Notify = _no_notify,
) -> dict[str, Any]:
    return _finish(db, reservation, where, "released", actor, notify)


def expire_all(db: Session, notify: Notify = _no_notify) -> int:
    """Release every expired reservation (for cron); returns how many."""
    now = clock.now()
    r = Reservation.__table__
    levels = db.execute(
        select(r.c.item_id, r.c.location_id)
        .distinct()
        .where(r.c.status == "active", r.c.expires_at <= now)
    ).all()
    count = 0
    for item_id, location_id in levels:
        before = db.scalar(
            select(func.count())
            .select_from(r)
            .where(
                r.c.item_id == item_id,
                r.c.location_id == location_id,
                r.c.status == "active",
                r.c.expires_at <= now,
            )
        )
        release_expired(db, item_id, location_id, now, notify)
        count += before or 0
    return count


# Integrity ------------------------------------------------------------------


def verify(db: Session) -> list[dict[str, Any]]:
    """Re-derive every level, and every ledger line's balance, from the ledger
    and the reservations; list the drift."""
    i, loc, lv = Item.__table__, Location.__table__, StockLevel.__table__
    m, r = Movement.__table__, Reservation.__table__
    ledger = (
        select(m.c.item_id, m.c.location_id, func.sum(m.c.quantity).label("total"))
        .group_by(m.c.item_id, m.c.location_id)
        .subquery()
    )
    held = (
        select(r.c.item_id, r.c.location_id, func.sum(r.c.quantity).label("total"))
        .where(r.c.status == "active")
        .group_by(r.c.item_id, r.c.location_id)
        .subquery()
    )
    problems = []
    stmt = select(
        i.c.sku,
        loc.c.code,
        lv.c.on_hand,
        lv.c.reserved,
        func.coalesce(ledger.c.total, 0),
        func.coalesce(held.c.total, 0),
    ).select_from(
        lv.join(i, i.c.id == lv.c.item_id)
        .join(loc, loc.c.id == lv.c.location_id)
        .outerjoin(
            ledger, and_(ledger.c.item_id == lv.c.item_id, ledger.c.location_id == lv.c.location_id)
        )
        .outerjoin(
            held, and_(held.c.item_id == lv.c.item_id, held.c.location_id == lv.c.location_id)
        )
    )
    for sku, code, on_hand, reserved, ledger_total, held_total in db.execute(stmt):
        if on_hand != ledger_total or reserved != held_total:
            problems.append(
                {
                    "sku": sku,
                    "location": code,
                    "on_hand": on_hand,
                    "ledger": int(ledger_total),
                    "reserved": reserved,
                    "active_reservations": int(held_total),
                }
            )
    orphans = (
        select(i.c.sku, loc.c.code, ledger.c.total)
        .select_from(
            ledger.join(i, i.c.id == ledger.c.item_id)
            .join(loc, loc.c.id == ledger.c.location_id)
            .outerjoin(
                lv, and_(lv.c.item_id == ledger.c.item_id, lv.c.location_id == ledger.c.location_id)
            )
        )
        .where(lv.c.id.is_(None), ledger.c.total != literal(0))
    )
    for sku, code, total in db.execute(orphans):
        problems.append(
            {
                "sku": sku,
                "location": code,
                "on_hand": None,
                "ledger": int(total),
                "reserved": None,
                "active_reservations": None,
            }
        )
    problems.extend(_balance_drift(db))
    return problems


def _balance_drift(db: Session) -> list[dict[str, Any]]:
    """Per level, the first ledger line whose kept balance is not the running
    sum of the level's ledger up to it, and how many such lines there are."""
    i, loc, m = Item.__table__, Location.__table__, Movement.__table__
    running = select(
        m.c.id,
        m.c.item_id,
        m.c.location_id,
        m.c.balance,
        func.sum(m.c.quantity)
        .over(partition_by=(m.c.item_id, m.c.location_id), order_by=m.c.id, rows=(None, 0))
        .label("running"),
    ).subquery("running")
    drifted = (
        select(
            running.c.item_id,
            running.c.location_id,
            func.min(running.c.id).label("first"),
            func.count().label("lines"),
        )
        .where(running.c.balance != running.c.running)
        .group_by(running.c.item_id, running.c.location_id)
        .subquery("drifted")
    )
    stmt = (
        select(
            i.c.sku, loc.c.code, drifted.c.lines, running.c.id, running.c.balance, running.c.running
        )
        .select_from(
            drifted.join(running, running.c.id == drifted.c.first)
            .join(i, i.c.id == drifted.c.item_id)
            .join(loc, loc.c.id == drifted.c.location_id)
        )
        .order_by(i.c.sku, loc.c.code)
    )
    return [
        {
            "sku": sku,
            "location": code,
            "movement": movement_id,
            "balance": balance,
            "ledger_up_to_it": int(total),
            "lines_drifted": lines,
        }
        for sku, code, lines, movement_id, balance, total in db.execute(stmt)
    ]
