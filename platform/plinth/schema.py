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
from dataclasses import dataclass
from importlib.resources import files
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import column, table
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
        except Exception:  # noqa: BLE001, S112 - a broken plugin we do not use
            continue
        folder = files(module.__name__).joinpath("migrations", "versions")
        if folder.is_dir():
            found[name] = str(folder)
    registry["plinth.migrations.disabled"] = found
    return dict(found)


def alembic_config(
    registry: Any, with_disabled: bool = False, only_disabled: set[str] | None = None
) -> Config:
    """The Alembic configuration of the enabled branches.

    ``with_disabled`` adds the installed-but-disabled plugins' version
    folders (all of them, or those whose labels are in ``only_disabled``).
    """
    cfg = Config()
    cfg.set_main_option("script_location", str(files("plinth").joinpath("migrations")))
    cfg.set_main_option("path_separator", "os")
    locations = dict(registry.get("plinth.migrations", {}))
    if with_disabled:
        disabled = {
            label: path
            for label, path in disabled_locations(registry).items()
            if only_disabled is None or label in only_disabled
        }
        locations = {**disabled, **locations}
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
    unknown = migration_state(registry, engine).unknown
    if unknown:
        raise SchemaError(unknown_revisions_hint(unknown))
    cfg = alembic_config(registry, with_disabled=True)
    script = ScriptDirectory.from_config(cfg)
    labels = [
        label
        for label in registry.get("plinth.migrations", {})
        if _branch_head(script, label) is not None
    ]
    with _connected(cfg, engine):
        for label in labels:
            command.upgrade(cfg, f"{label}@head")


def _disabled_in_use(registry: Any, engine: Engine) -> set[str]:
    """The disabled plugins whose revisions the database holds."""
    script = ScriptDirectory.from_config(alembic_config(registry, with_disabled=True))
    with engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_heads()
    folders = {
        os.path.realpath(os.path.dirname(script.get_revision(r).path))
        for r in current
        if r in known_revisions(registry)
    }
    return {
        label
        for label, path in disabled_locations(registry).items()
        if os.path.realpath(path) in folders
    }


def revision(registry: Any, engine: Engine, label: str, message: str) -> Any:
    """Autogenerate a revision on branch ``label`` from the models (for authors).

    Autogenerate wants the database at every head it knows of: a disabled
    plugin the database never saw must not count, so its folder is left out.
    """
    unknown = migration_state(registry, engine).unknown
    if unknown:
        raise SchemaError(unknown_revisions_hint(unknown))
    cfg = alembic_config(
        registry, with_disabled=True, only_disabled=_disabled_in_use(registry, engine)
    )
    locations = registry.get("plinth.migrations", {})
    script = ScriptDirectory.from_config(cfg)
    has_branch = _branch_head(script, label) is not None
    try:
        with _connected(cfg, engine):
            return command.revision(
                cfg,
                message,
                autogenerate=True,
                head=f"{label}@head" if has_branch else "base",
                branch_label=None if has_branch else label,
                version_path=locations[label],
            )
    except CommandError as exc:
        raise SchemaError(f"{exc}: run 'plinth db upgrade' first") from None


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
        lineages[label] = (
            [r.revision for r in script.iterate_revisions(head.revision, "base")]
            if head is not None
            else []
        )
    registry["plinth.migrations.lineages"] = lineages
    return dict(lineages)


def known_revisions(registry: Any) -> frozenset[str]:
    """Every revision of the enabled and the installed-but-disabled plugins.

    Cached in the registry like :func:`branch_lineages`.
    """
    cached = registry.get("plinth.migrations.known")
    if cached is not None:
        return frozenset(cached)
    script = ScriptDirectory.from_config(alembic_config(registry, with_disabled=True))
    known = frozenset(r.revision for r in script.walk_revisions())
    registry["plinth.migrations.known"] = known
    return known


def no_revisions_hint(label: str) -> str:
    return f"no revisions yet: run 'plinth db revision {label} -m MESSAGE'"


def unknown_revisions_hint(unknown: list[str]) -> str:
    """What an operator reads about revisions that no installed plugin knows."""
    names = ", ".join(unknown)
    return (
        f"the database holds revision(s) {names} that no installed plugin knows "
        f"(was a plugin uninstalled?): 'plinth db upgrade' fails until you reinstall "
        f"that plugin (it need not be enabled), or run 'plinth db forget {unknown[0]}' "
        f"to keep its tables but stop tracking them"
    )


@dataclass(frozen=True)
class MigrationState:
    """The database's migrations as the enabled plugins see them.

    ``branches`` maps each enabled branch to its ``head``, ``applied``
    revision, ``pending`` flag and ``status`` (``"applied"``, ``"pending"``
    or ``"no revisions"``); ``unknown`` lists the revisions in the database
    that no installed plugin knows, which make ``plinth db upgrade`` fail.
    """

    branches: dict[str, dict[str, Any]]
    unknown: list[str]

    @property
    def pending(self) -> list[str]:
        return [label for label, state in self.branches.items() if state["pending"]]

    @property
    def without_revisions(self) -> list[str]:
        return [
            label for label, state in self.branches.items() if state["status"] == "no revisions"
        ]


def migration_state(registry: Any, engine: Engine) -> MigrationState:
    """Read ``alembic_version`` once and compare it with the migration files."""
    lineages = branch_lineages(registry)
    known = known_revisions(registry)
    with engine.connect() as connection:
        current = set(MigrationContext.configure(connection).get_current_heads())
    branches = {}
    for label, revisions in lineages.items():
        head = revisions[0] if revisions else None
        applied = next((r for r in revisions if r in current), None)
        pending = head is not None and applied != head
        status = "no revisions" if head is None else "pending" if pending else "applied"
        branches[label] = {"head": head, "applied": applied, "pending": pending, "status": status}
    return MigrationState(branches, sorted(current - known))


def branch_state(registry: Any, engine: Engine) -> dict[str, dict[str, Any]]:
    """For every enabled branch: its head, the applied revision, pending or not."""
    return migration_state(registry, engine).branches


def downgrade_to_base(registry: Any, engine: Engine, label: str) -> None:
    """Run every downgrade of branch ``label``: its tables go, and its record.

    The branch may belong to an installed plugin that is disabled already.
    """
    if label == "core":
        raise SchemaError("the core's branch cannot be retired")
    cfg = alembic_config(registry, with_disabled=True)
    script = ScriptDirectory.from_config(cfg)
    if _branch_head(script, label) is None:
        raise SchemaError(f"no migration branch {label!r}: is the plugin installed?")
    with _connected(cfg, engine):
        command.downgrade(cfg, f"{label}@base")


def forget(registry: Any, engine: Engine, revision: str) -> None:
    """Drop an unknown revision's record from ``alembic_version``; tables stay.

    Only a revision that no installed plugin knows may go: a known one is
    retired with :func:`downgrade_to_base`, which removes its tables too.
    """
    if revision in known_revisions(registry):
        raise SchemaError(
            f"revision {revision!r} belongs to an installed plugin: retire its "
            f"branch with 'plinth db downgrade NAME' instead"
        )
    with engine.begin() as connection:
        context = MigrationContext.configure(connection)
        if revision not in context.get_current_heads():
            raise SchemaError(f"revision {revision!r} is not in the database")
        versions = table(
            context.version_table, column("version_num"), schema=context.version_table_schema
        )
        connection.execute(versions.delete().where(versions.c.version_num == revision))


def includeme(config: Any) -> None:
    config.registry.setdefault("plinth.migrations", {})
    config.add_directive("add_migrations", add_migrations)
    config.add_migrations("core", "plinth:migrations/versions")
