"""The one pattern behind the core's directives: register a named thing once.

Each contribution is recorded in the registry by ``config.action`` with a
discriminator, so two plugins registering the same name fail at start-up with
ConfigurationConflictError instead of one silently replacing the other, and
each gets an introspectable so that tools can list what plugins contributed.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any


def register_once(
    config: Any,
    kind: str,
    name: Hashable,
    value: Any,
    registry_key: str,
    title: str | None = None,
    **details: Any,
) -> None:
    """Store ``value`` as ``registry[registry_key][name]`` when the config commits.

    ``kind`` names the discriminator (``("plinth." + kind, name)``) and the
    introspection category (``"plinth " + kind``).
    """
    intr = config.introspectable(f"plinth {kind}", name, title or str(name), f"plinth {kind}")
    for key, detail in details.items():
        intr[key] = detail

    def register() -> None:
        config.registry.setdefault(registry_key, {})[name] = value

    config.action((f"plinth.{kind}", name), register, introspectables=(intr,))
