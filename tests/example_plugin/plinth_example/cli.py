from __future__ import annotations

import click

from plinth.api import Environment, pass_env


@click.command("hello")
@pass_env
def hello(env: Environment) -> None:
    """Print the greeting (a plugin-contributed command)."""
    click.echo(env.settings["example.greeting"])
