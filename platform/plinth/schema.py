"""Migrations: the Alembic configuration for the enabled branches, and state.

Each branch is registered with ``config.add_migrations(label, "pkg:folder")``
(label = plugin name; the core's is ``core``).  Only enabled branches take
part, so a plugin enabled later gets its tables at the next
``plinth db upgrade``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.resources import files
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

from .directives import register_once


def add_migrations(config: Any, label: str, location: str) -> None:
    """Directive: the Alembic version folder of branch ``label``."""
    package, _, folder = location.partition(":")
    path = str(files(package).joinpath(folder)) if folder else location
    register_once(config, "migrations", label, path, "plinth.migrations", location=path)


def alembic_config(registry: Any) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(files("plinth").joinpath("migrations")))
    cfg.set_main_option("path_separator", "os")
    locations = registry.get("plinth.migrations", {})
    cfg.set_main_option("version_locations", os.pathsep.join(locations.values()))
    return cfg


@contextmanager
def _connected(cfg: Config, engine: Engine) -> Iterator[Config]:
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        yield cfg


def upgrade(registry: Any, engine: Engine) -> None:
    cfg = alembic_config(registry)
    with _connected(cfg, engine):
        command.upgrade(cfg, "heads")


def revision(registry: Any, engine: Engine, label: str, message: str) -> Any:
    """Autogenerate a revision on branch ``label`` from the models (for authors)."""
    cfg = alembic_config(registry)
    locations = registry.get("plinth.migrations", {})
    script = ScriptDirectory.from_config(cfg)
    try:
        has_branch = script.get_revision(f"{label}@head") is not None
    except Exception:  # noqa: BLE001 - alembic raises several kinds for "no such branch"
        has_branch = False
    with _connected(cfg, engine):
        return command.revision(
            cfg, message, autogenerate=True,
            head=f"{label}@head" if has_branch else "base",
            branch_label=None if has_branch else label,
            version_path=locations[label],
        )


def branch_state(registry: Any, engine: Engine) -> dict[str, dict[str, Any]]:
    """For every enabled branch: its head, the applied revision, pending or not."""
    cfg = alembic_config(registry)
    script = ScriptDirectory.from_config(cfg)
    with engine.connect() as connection:
        current = set(MigrationContext.configure(connection).get_current_heads())
    state = {}
    for label in registry.get("plinth.migrations", {}):
        try:
            head = script.get_revision(f"{label}@head")
        except Exception:  # noqa: BLE001 - a branch without revisions yet
            head = None
        applied = None
        if head is not None:
            for revision in script.iterate_revisions(head.revision, "base"):
                if revision.revision in current:
                    applied = revision.revision
                    break
        state[label] = {
            "head": head.revision if head else None,
            "applied": applied,
            "pending": head is not None and applied != head.revision,
        }
    return state


def includeme(config: Any) -> None:
    config.registry.setdefault("plinth.migrations", {})
    config.add_directive("add_migrations", add_migrations)
    config.add_migrations("core", "plinth:migrations/versions")
