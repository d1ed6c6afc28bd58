"""An example plugin: one resource, one permission, one view, one command."""

from __future__ import annotations

from typing import Any

requires: tuple[str, ...] = ("auth",)


def includeme(config: Any) -> None:
    config.plinth_setting("example.greeting", "hello")
    config.declare_permission("example.view", "read the greeting")
    config.add_tree_child("hello", "plinth_example.resources.Hello")
    config.add_health_check("example", lambda request: True)
    config.add_cli_command("plinth_example.cli.hello")
    config.include(".views")
