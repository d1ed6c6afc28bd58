"""Health checks plugins contribute to ``/ready``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .directives import register_once


def add_health_check(config: Any, name: str, check: Callable[[Any], bool]) -> None:
    """Directive: ``check(request)`` must return true for ``/ready`` to say ready."""
    register_once(config, "health_check", name, config.maybe_dotted(check), "plinth.health_checks")


def includeme(config: Any) -> None:
    config.add_directive("add_health_check", add_health_check)
