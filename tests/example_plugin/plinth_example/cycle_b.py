"""The other half of a dependency cycle."""

from typing import Any

requires = ("plinth_example.cycle_a",)


def includeme(config: Any) -> None:
    pass
