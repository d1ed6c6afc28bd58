"""Requires a plugin that is not enabled."""

from typing import Any

requires = ("warehouse_robots",)


def includeme(config: Any) -> None:
    pass
