"""Claims /hello too: enabling it beside 'example' must fail with a conflict."""

from typing import Any


def includeme(config: Any) -> None:
    config.add_tree_child("hello", "plinth_example.resources.Hello")
