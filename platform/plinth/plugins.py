"""Plugin discovery, ordering and inclusion.

``plinth.plugins = auth stock reporting`` names plugins through the
entry-point group ``plinth.plugins`` (a dotted module name also works).  The
ini is authoritative: installed is not enabled.  A plugin module may declare
``requires = ("auth", ...)`` and ``optional = ("reporting", ...)`` (included
first when enabled, so that the plugin can use its directives); plugins are
included after the core's own set-up, dependencies first.  Anything wrong
stops start-up with a :class:`PluginError` whose one line names the plugin and
the fix.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, PackageNotFoundError, entry_points, version
from types import ModuleType
from typing import Any

from pyramid.exceptions import ConfigurationError

GROUP = "plinth.plugins"


class PluginError(ConfigurationError):
    """A plugin cannot be enabled; the message is one line naming the fix."""


@dataclass
class PluginInfo:
    name: str
    module: ModuleType
    version: str
    distribution: str | None
    requires: tuple[str, ...] = field(default_factory=tuple)
    optional: tuple[str, ...] = field(default_factory=tuple)

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "version": self.version, "distribution": self.distribution}


def installed_entry_points() -> dict[str, EntryPoint]:
    return {ep.name: ep for ep in entry_points(group=GROUP)}


def _resolve(name: str, available: dict[str, EntryPoint]) -> PluginInfo:
    ep = available.get(name)
    if ep is not None:
        try:
            module = ep.load()
        except ImportError as exc:
            raise PluginError(
                f"plugin {name!r} is registered but cannot be imported ({exc}): "
                f"reinstall its distribution"
            ) from None
        dist = ep.dist.name if ep.dist is not None else None
        dist_version = ep.dist.version if ep.dist is not None else "unknown"
    else:
        try:
            module = importlib.import_module(name)
        except ImportError:
            if "." not in name:
                known = ", ".join(sorted(available)) or "none"
                raise PluginError(
                    f"unknown plugin {name!r} in plinth.plugins: install it "
                    f"(e.g. pip install -e plugins/{name}) or remove it "
                    f"(installed: {known})"
                ) from None
            raise PluginError(
                f"plugin {name!r} is not installed: pip install the distribution that "
                f"provides it, or remove it from plinth.plugins"
            ) from None
        dist = getattr(module, "distribution", None)
        try:
            dist_version = version(dist) if dist else getattr(module, "__version__", "unknown")
        except PackageNotFoundError:
            dist_version = getattr(module, "__version__", "unknown")
    if not hasattr(module, "includeme"):
        raise PluginError(
            f"plugin {name!r} ({module.__name__}) has no includeme: it is not a Plinth plugin"
        )
    requires = tuple(getattr(module, "requires", ()))
    optional = tuple(getattr(module, "optional", ()))
    return PluginInfo(name, module, dist_version, dist, requires, optional)


def resolve_plugins(names: list[str]) -> list[PluginInfo]:
    """Resolve and order ``names``: dependencies first, the ini order otherwise."""
    available = installed_entry_points()
    seen: set[str] = set()
    infos: dict[str, PluginInfo] = {}
    for name in names:
        if name in seen:
            raise PluginError(f"plugin {name!r} is listed twice in plinth.plugins: list it once")
        seen.add(name)
        infos[name] = _resolve(name, available)
    for info in infos.values():
        for dependency in info.requires:
            if dependency not in infos:
                raise PluginError(
                    f"plugin {info.name!r} requires plugin {dependency!r}: "
                    f"add {dependency!r} to plinth.plugins"
                )
    ordered: list[PluginInfo] = []
    state: dict[str, str] = {}

    def visit(info: PluginInfo, chain: list[str]) -> None:
        if state.get(info.name) == "done":
            return
        if state.get(info.name) == "visiting":
            cycle = " -> ".join([*chain, info.name])
            raise PluginError(
                f"plugins depend on each other in a cycle ({cycle}): "
                f"remove one of those dependencies"
            )
        state[info.name] = "visiting"
        for dependency in info.requires + tuple(o for o in info.optional if o in infos):
            visit(infos[dependency], [*chain, info.name])
        state[info.name] = "done"
        ordered.append(info)

    for info in infos.values():
        visit(info, [])
    return ordered


def include_plugins(config: Any, names: list[str]) -> list[PluginInfo]:
    plugins = resolve_plugins(names)
    config.registry["plinth.plugins"] = plugins
    for info in plugins:
        # No commit between plugins: Pyramid's conflict detection then catches
        # two plugins claiming the same thing.  Directives and settings of a
        # dependency are available at once, as they are not deferred.
        config.include(info.module)
    return plugins


def is_enabled(registry: Any, name: str) -> bool:
    return any(p.name == name for p in registry.get("plinth.plugins", []))


def disabled_plugins(enabled: list[PluginInfo]) -> list[dict[str, Any]]:
    names = {p.name for p in enabled}
    result = []
    for name, ep in sorted(installed_entry_points().items()):
        if name not in names:
            result.append(
                {"name": name, "version": ep.dist.version if ep.dist is not None else "unknown"}
            )
    return result
