"""Half of a dependency cycle."""

from typing import Any

requires = ("plinth_example.cycle_b",)


def includeme(config: Any) -> None:
    pass
