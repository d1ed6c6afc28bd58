"""``plinth plugin new NAME``: start a plugin from a working example."""

from __future__ import annotations

from pathlib import Path

import click

from ..scaffold import ScaffoldError, check_name, generate


def _name(ctx: click.Context, param: click.Parameter, value: str) -> str:
    try:
        check_name(value)
    except ScaffoldError as exc:
        raise click.BadParameter(str(exc)) from None  # exit code 2, as for any usage error
    return value


@click.group()
def plugin() -> None:
    """Plugin authoring tools."""


@plugin.command("new")
@click.argument("name", callback=_name)
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="where to write plinth-NAME",
)
def new(name: str, directory: Path) -> None:
    """Write plinth-NAME, a complete plugin whose tests pass as generated."""
    try:
        target = generate(name, directory)
    except ScaffoldError as exc:
        raise click.UsageError(str(exc)) from None
    click.echo(f"wrote {target}")
    click.echo("next:")
    click.echo(f"  pip install -e '{target}[testing]'")
    click.echo(f"  cd {target} && pytest")
    click.echo(f"  add {name} to plinth.plugins in your ini, then: plinth -c INI db upgrade")
