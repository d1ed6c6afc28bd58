"""Health checks plugins contribute to ``/ready``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def add_health_check(config: Any, name: str, check: Callable[[Any], bool]) -> None:
    """Directive: ``check(request)`` must return true for ``/ready`` to say ready."""
    check = config.maybe_dotted(check)

    def register() -> None:
        config.registry.setdefault("plinth.health_checks", {})[name] = check

    intr = config.introspectable("plinth health checks", name, name, "plinth health check")
    config.action(("plinth.health_check", name), register, introspectables=(intr,))


def includeme(config: Any) -> None:
    config.add_directive("add_health_check", add_health_check)
