"""Output for people and for scripts: aligned tables, or JSON with ``--json``."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

import click

json_option: Callable[[Any], Any] = click.option(
    "--json", "as_json", is_flag=True, help="print JSON instead of a table"
)


def echo_json(value: Any) -> None:
    click.echo(json.dumps(value, indent=2, default=str))


def cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value) or "-"
    return str(value)


def echo_table(
    headers: Sequence[str], rows: Sequence[Sequence[Any]], empty: str = "(none)"
) -> None:
    """Columns padded to their widest cell, a header line first."""
    if not rows:
        click.echo(empty)
        return
    cells = [[h.upper() for h in headers], *[[cell(v) for v in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    for row in cells:
        click.echo("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
