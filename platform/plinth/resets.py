"""State kept outside the database, which tests reset between them.

A plugin keeping such state (in-memory login counts, say) registers how to
forget it with ``config.add_test_reset(name, reset)``; the ``testapp``
fixture of :mod:`plinth.testing` calls every reset after each test.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .directives import register_once

RESETS_KEY = "plinth.test_resets"


def add_test_reset(config: Any, name: str, reset: Callable[[], None]) -> None:
    """Directive: ``reset()`` forgets the state ``name`` keeps outside the database."""
    register_once(config, "test reset", name, reset, RESETS_KEY)


def run_test_resets(registry: Any) -> None:
    """Call every registered reset (after a test)."""
    for reset in registry.get(RESETS_KEY, {}).values():
        reset()


def includeme(config: Any) -> None:
    config.add_directive("add_test_reset", add_test_reset)
    config.registry.setdefault(RESETS_KEY, {})
