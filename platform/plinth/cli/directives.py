"""``config.add_cli_command``: plugins add ``plinth`` subcommands."""

from __future__ import annotations

from typing import Any

from ..directives import register_once


def add_cli_command(config: Any, command: Any) -> None:
    """Directive: add a click command or group as ``plinth <command.name>``."""
    command = config.maybe_dotted(command)
    register_once(config, "cli", command.name, command, "plinth.cli")


def includeme(config: Any) -> None:
    config.registry.setdefault("plinth.cli", {})
    config.add_directive("add_cli_command", add_cli_command)
    config.add_cli_command("plinth.cli.core.db")
    config.add_cli_command("plinth.cli.core.plugins")
    config.add_cli_command("plinth.cli.core.acl")
    config.add_cli_command("plinth.cli.core.audit_command")
    config.add_cli_command("plinth.cli.core.roles")
