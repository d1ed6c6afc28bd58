"""The ``plinth`` command.

``plinth -c INI COMMAND``: the ini decides which plugins are enabled, and the
enabled plugins add their own commands (``config.add_cli_command``).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import click
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.orm import Session

from ..interfaces import IReadEngine, IWriteEngine
from ..services import get_service

DEFAULT_INI = "development.ini"


@dataclass
class Environment:
    """What a command works with: the registry and a way to get a session."""

    registry: Any
    config_uri: str

    @property
    def settings(self) -> dict[str, Any]:
        return self.registry.settings

    @property
    def engine(self) -> Any:
        return get_service(self.registry, IReadEngine)

    @contextmanager
    def session(self, write: bool = True) -> Iterator[Session]:
        """A session in one transaction: committed on success, rolled back on error."""
        engine = get_service(self.registry, IWriteEngine if write else IReadEngine)
        with Session(bind=engine, expire_on_commit=False) as session, session.begin():
            yield session

    @property
    def operator(self) -> str:
        """Who the audit log names for changes made from the command line."""
        user = os.environ.get("PLINTH_OPERATOR") or os.environ.get("USER") or "unknown"
        return f"cli:{user}"


def load_environment(config_uri: str) -> Environment:
    from pyramid.exceptions import ConfigurationError
    from pyramid.paster import get_appsettings, setup_logging

    from plinth import error_line, make_configurator

    if not os.path.exists(config_uri.split("#")[0]):
        raise click.UsageError(f"configuration file {config_uri!r} not found (use -c INI)")
    setup_logging(config_uri)
    settings = get_appsettings(config_uri)
    try:
        config = make_configurator(dict(settings))
        config.commit()
    except ConfigurationError as exc:
        raise click.ClickException(error_line(exc)) from None
    return Environment(config.registry, config_uri)


def behind_the_code(env: Environment | None) -> str | None:
    """What to run when the database's migrations lag behind the code, or None
    (nothing pending, or the database cannot say)."""
    from plinth import schema

    if env is None:
        return None
    try:
        state = schema.migration_state(env.registry, env.engine)
    except Exception:  # noqa: BLE001 - unreachable: the caller says so
        return None
    if state.unknown:
        return schema.unknown_revisions_hint(state.unknown)
    if state.pending:
        return (
            f"the database is behind the code (pending: {', '.join(state.pending)}): "
            "run 'plinth db upgrade'"
        )
    return None


def config_argument(args: list[str]) -> str | None:
    """The value of ``-c``/``--config`` among the options before the command."""
    for index, arg in enumerate(args):
        if arg in ("-c", "--config"):
            return args[index + 1] if index + 1 < len(args) else None
        if arg.startswith("--config="):
            return arg.partition("=")[2]
        if arg.startswith("-c") and len(arg) > 2 and not arg.startswith("--"):
            return arg[2:]
        if not arg.startswith("-"):
            return None  # the command: what follows is its own
    return None


class PlinthGroup(click.Group):
    """Core commands plus the ones the enabled plugins registered."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        # --help is answered before -c is parsed: note -c first, so that the
        # help lists the commands of the plugins that ini enables.
        ctx.meta["plinth.config"] = config_argument(args)
        return super().parse_args(ctx, args)

    def _environment(self, ctx: click.Context) -> Environment | None:
        root = ctx.find_root()
        if root.obj is None:
            config_uri = (
                root.params.get("config")
                or root.meta.get("plinth.config")
                or os.environ.get("PLINTH_CONFIG")
                or DEFAULT_INI
            )
            if ctx.resilient_parsing:
                return None
            root.obj = load_environment(config_uri)
        return root.obj

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (OperationalError, ProgrammingError) as exc:
            env = ctx.find_root().obj
            # A table or column the code reads is missing: migrations not run.
            behind = behind_the_code(env) if ctx.invoked_subcommand != "db" else None
            if behind is not None:
                raise click.ClickException(behind) from None
            if not isinstance(exc, OperationalError):
                raise
            # An unreachable database is the operator's to fix: one line, no traceback.
            url = env.engine.url.render_as_string(hide_password=True) if env else "?"
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
            raise click.ClickException(f"cannot use the database {url}: {reason}") from None

    def list_commands(self, ctx: click.Context) -> list[str]:
        try:
            env = self._environment(ctx)
        except click.ClickException:
            env = None
        names = set(super().list_commands(ctx))
        if env is not None:
            names |= set(env.registry.get("plinth.cli", {}))
        return sorted(names)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        command = super().get_command(ctx, name)
        if command is not None:
            return command
        env = self._environment(ctx)
        if env is None:
            return None
        return env.registry.get("plinth.cli", {}).get(name)


@click.group(cls=PlinthGroup)
@click.option(
    "-c",
    "--config",
    "config",
    envvar="PLINTH_CONFIG",
    default=DEFAULT_INI,
    show_default=True,
    help="the ini file (environment: PLINTH_CONFIG)",
)
@click.pass_context
def cli(ctx: click.Context, config: str) -> None:
    """Plinth's command-line tool."""


pass_env = click.make_pass_decorator(Environment)


def _add_core_commands() -> None:
    # Commands that work before (or without) loading the -c ini: ``check``
    # loads the ini it is given, ``plugin new`` needs none.
    from .check import check
    from .plugin import plugin

    cli.add_command(check)
    cli.add_command(plugin)


_add_core_commands()


def main(argv: list[str] | None = None) -> Any:
    return cli.main(args=argv, prog_name="plinth")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
