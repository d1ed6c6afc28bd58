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
from alembic.util.exc import CommandError
from sqlalchemy.engine import Engine

from .directives import register_once


def add_migrations(config: Any, label: str, location: str) -> None:
    """Directive: the Alembic version folder of branch ``label``."""
    package, _, folder = location.partition(":")
    path = str(files(package).joinpath(folder)) if folder else location
    register_once(config, "migrations", label, path, "plinth.migrations", location=path)


class SchemaError(Exception):
    """The database's migration state cannot be handled; the message says why."""


def disabled_locations(registry: Any) -> dict[str, str]:
    """Version folders of installed plugins that are not enabled.

    A plugin that was enabled once and is disabled now left its revision in
    ``alembic_version``; Alembic must be able to find that revision to
    upgrade the other branches, but must not upgrade its branch.  Found by
    convention (``<package>/migrations/versions``); cached in the registry.
    """
    cached = registry.get("plinth.migrations.disabled")
    if cached is not None:
        return dict(cached)
    from .plugins import installed_entry_points

    enabled = {p.name for p in registry.get("plinth.plugins", [])}
    found = {}
    for name, entry_point in installed_entry_points().items():
        if name in enabled:
            continue
        try:
            module = entry_point.load()
        except Exception:  # noqa: BLE001 - a broken plugin we do not use
            continue
        folder = files(module.__name__).joinpath("migrations", "versions")
        if folder.is_dir():
            found[name] = str(folder)
    registry["plinth.migrations.disabled"] = found
    return dict(found)


def alembic_config(registry: Any, with_disabled: bool = False) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(files("plinth").joinpath("migrations")))
    cfg.set_main_option("path_separator", "os")
    locations = dict(registry.get("plinth.migrations", {}))
    if with_disabled:
        locations = {**disabled_locations(registry), **locations}
    cfg.set_main_option("version_locations", os.pathsep.join(locations.values()))
    return cfg


def _branch_head(script: ScriptDirectory, label: str) -> Any:
    try:
        return script.get_revision(f"{label}@head")
    except Exception:  # noqa: BLE001 - alembic raises several kinds for "no such branch"
        return None


@contextmanager
def _connected(cfg: Config, engine: Engine) -> Iterator[Config]:
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        yield cfg


def upgrade(registry: Any, engine: Engine) -> None:
    """Bring every enabled branch to its head; disabled plugins' are left alone."""
    cfg = alembic_config(registry, with_disabled=True)
    script = ScriptDirectory.from_config(cfg)
    labels = [label for label in registry.get("plinth.migrations", {})
              if _branch_head(script, label) is not None]
    try:
        with _connected(cfg, engine):
            for label in labels:
                command.upgrade(cfg, f"{label}@head")
    except CommandError as exc:
        raise SchemaError(
            f"{exc}: the database holds migrations of a plugin that is not installed; "
            f"install it again (it need not be enabled)") from None


def revision(registry: Any, engine: Engine, label: str, message: str) -> Any:
    """Autogenerate a revision on branch ``label`` from the models (for authors)."""
    cfg = alembic_config(registry, with_disabled=True)
    locations = registry.get("plinth.migrations", {})
    script = ScriptDirectory.from_config(cfg)
    has_branch = _branch_head(script, label) is not None
    with _connected(cfg, engine):
        return command.revision(
            cfg, message, autogenerate=True,
            head=f"{label}@head" if has_branch else "base",
            branch_label=None if has_branch else label,
            version_path=locations[label],
        )


def branch_lineages(registry: Any) -> dict[str, list[str]]:
    """Per enabled branch, its revisions from the head down to the first.

    Read from the migration files once per process and cached in the
    registry: the files do not change while it runs, and ``/ready`` is polled.
    """
    cached = registry.get("plinth.migrations.lineages")
    if cached is not None:
        return dict(cached)
    script = ScriptDirectory.from_config(alembic_config(registry, with_disabled=True))
    lineages = {}
    for label in registry.get("plinth.migrations", {}):
        head = _branch_head(script, label)
        lineages[label] = ([r.revision for r in script.iterate_revisions(head.revision, "base")]
                           if head is not None else [])
    registry["plinth.migrations.lineages"] = lineages
    return dict(lineages)


def branch_state(registry: Any, engine: Engine) -> dict[str, dict[str, Any]]:
    """For every enabled branch: its head, the applied revision, pending or not."""
    lineages = branch_lineages(registry)
    with engine.connect() as connection:
        current = set(MigrationContext.configure(connection).get_current_heads())
    state = {}
    for label, revisions in lineages.items():
        head = revisions[0] if revisions else None
        applied = next((r for r in revisions if r in current), None)
        state[label] = {"head": head, "applied": applied,
                        "pending": head is not None and applied != head}
    return state


def includeme(config: Any) -> None:
    config.registry.setdefault("plinth.migrations", {})
    config.add_directive("add_migrations", add_migrations)
    config.add_migrations("core", "plinth:migrations/versions")
