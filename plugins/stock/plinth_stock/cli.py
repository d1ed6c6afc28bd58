"""``plinth stock ...``: verify, expire, import, demo."""

from __future__ import annotations

import csv
import json
import sys
from dataclasses import dataclass
from typing import Any

import click

from plinth.api import Environment, pass_env

from . import services
from .schemas import CODE, MAX_QUANTITY

ITEM_COLUMNS = {"sku", "name"}
COUNT_COLUMNS = {"location", "sku", "quantity"}


@click.group()
def stock() -> None:
    """Inventory tools."""


@stock.command("verify")
@pass_env
def verify(env: Environment) -> None:
    """Re-derive every level and every line's balance from the ledger; exit 1 on any drift."""
    with env.session(write=False) as db:
        problems = services.verify(db)
    for problem in problems:
        click.echo(json.dumps(problem))
    if problems:
        click.echo(f"{len(problems)} level(s) drifted from the ledger", err=True)
        sys.exit(1)
    click.echo("every level and every line's balance match the ledger and the active reservations")


@stock.command("expire")
@pass_env
def expire(env: Environment) -> None:
    """Release every expired reservation (run it from cron)."""
    with env.session() as db:
        count = services.expire_all(db)
    click.echo(f"released {count} expired reservation(s)")


@dataclass
class Row:
    line: int
    values: dict[str, Any]


def _int(text: str, low: int, high: int) -> int:
    value = int(text.strip())
    if not low <= value <= high:
        raise ValueError(f"must be between {low} and {high}")
    return value


def _check_code(text: str, what: str) -> str:
    import re

    if not re.fullmatch(str(CODE["pattern"]), text) or len(text) > int(str(CODE["maxLength"])):
        raise ValueError(f"{what} {text!r} is not a valid code")
    return text


def parse_items(reader: Any) -> tuple[list[Row], list[str]]:
    rows, errors = [], []
    for number, record in enumerate(reader, start=2):
        try:
            values: dict[str, Any] = {
                "sku": _check_code(record["sku"].strip(), "sku"),
                "name": record["name"].strip(),
            }
            if not values["name"] or len(values["name"]) > 200:
                raise ValueError("name must be 1 to 200 characters")
            if record.get("reorder_point", "").strip():
                values["reorder_point"] = _int(record["reorder_point"], 0, MAX_QUANTITY)
            if record.get("unit_cost", "").strip():
                values["unit_cost"] = services.parse_cost(record["unit_cost"].strip())
            if record.get("unit", "").strip():
                values["unit"] = record["unit"].strip()[:20]
            rows.append(Row(number, values))
        except (ValueError, services.StockError) as exc:
            errors.append(f"line {number}: {getattr(exc, 'message', exc)}")
    return rows, errors


def parse_counts(reader: Any) -> tuple[list[Row], list[str]]:
    rows, errors = [], []
    for number, record in enumerate(reader, start=2):
        try:
            rows.append(
                Row(
                    number,
                    {
                        "location": _check_code(record["location"].strip(), "location"),
                        "sku": _check_code(record["sku"].strip(), "sku"),
                        "quantity": _int(record["quantity"], 0, MAX_QUANTITY),
                    },
                )
            )
        except ValueError as exc:
            errors.append(f"line {number}: {exc}")
    return rows, errors


@stock.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--reference",
    default="import",
    show_default=True,
    help="reference of the adjustments made for counts",
)
@pass_env
def import_csv(env: Environment, path: str, reference: str) -> None:
    """Load items (columns sku,name[,unit,reorder_point,unit_cost]) or counted
    quantities (columns location,sku,quantity) from a CSV file.

    Every row is checked first; any bad row stops the import with nothing
    changed.  Counts become adjustment movements to the counted quantity.
    """
    with open(path, newline="", encoding="utf-8-sig") as handle:
        # A short row's missing cells are "" (not None), so that the parsers
        # report the line instead of failing on None.
        reader = csv.DictReader(handle, restval="")
        columns = set(reader.fieldnames or [])
        if columns >= COUNT_COLUMNS:
            kind = "counts"
            rows, errors = parse_counts(reader)
        elif columns >= ITEM_COLUMNS:
            kind = "items"
            rows, errors = parse_items(reader)
        else:
            raise click.ClickException(
                "the header must name sku,name (items) or location,sku,quantity (counts)"
            )
    if errors:
        for error in errors[:100]:
            click.echo(error, err=True)
        raise click.ClickException(f"{len(errors)} bad row(s); nothing was imported")
    with (
        env.session() as db,
        click.progressbar(rows, label=f"importing {kind}", file=sys.stderr) as bar,
    ):
        changed = 0
        for row in bar:
            try:
                if kind == "items":
                    services.put_item(db, row.values["sku"], row.values)
                    changed += 1
                else:
                    changed += _apply_count(db, row.values, reference, env.operator)
            except services.StockError as exc:
                raise click.ClickException(
                    f"line {row.line}: {exc.message}; nothing was imported"
                ) from None
    click.echo(f"imported {len(rows)} {kind} row(s), {changed} change(s)")


def _apply_count(db: Any, values: dict[str, Any], reference: str, actor: str) -> int:
    where = services.place(db, values["sku"], values["location"])
    current = services.level_snapshot(db, where)["on_hand"]
    change = values["quantity"] - current
    if change == 0:
        return 0
    services.record_movement(db, where, "adjustment", change, actor, "stock count", reference)
    return 1


DEMO_LOCATIONS = [("WH1", "Main warehouse"), ("WH2", "Overflow store")]
DEMO_ITEMS = [
    # sku, name, reorder point, unit cost, {location: quantity}
    ("A-1", "Anchor bolt M8", 5, "0.3500", {"WH1": 12}),
    ("B-2", "Bracket, steel", 10, "2.1000", {}),
    ("C-3", "Cable tie 200mm", 20, "0.0500", {"WH2": 5}),
    ("D-4", "Drill bit 6mm", 3, "4.7500", {"WH1": 40, "WH2": 8}),
    ("E-5", "Epoxy glue 50ml", 6, "6.2000", {"WH1": 4}),
]


@stock.command("demo")
@pass_env
def demo(env: Environment) -> None:
    """Load demo locations and items (A-1 = 12, B-2 = 0, C-3 = 5, ...), once."""
    with env.session() as db:
        if services.get_item(db, "A-1") is not None:
            click.echo("demo data is already loaded")
            return
        for code, name in DEMO_LOCATIONS:
            services.put_location(db, code, name)
        for sku, name, reorder, cost, quantities in DEMO_ITEMS:
            services.put_item(db, sku, {"name": name, "reorder_point": reorder, "unit_cost": cost})
            for code, quantity in quantities.items():
                services.record_movement(
                    db,
                    services.place(db, sku, code),
                    "receipt",
                    quantity,
                    env.operator,
                    None,
                    "demo data",
                )
    click.echo("loaded demo data: locations WH1, WH2; items A-1 (12), B-2 (0), C-3 (5), D-4, E-5")
