"""The resource tree: a root owned by the core, children mounted by plugins.

Every resource knows its ``__name__`` and ``__parent__`` so that
``request.resource_url`` and ``resource_path`` work, and the permission engine
can walk the lineage.  A resource's code-default ACL is ``__default_acl__``;
entries stored by administrators come first (see :mod:`plinth.acl`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pyramid.authorization import ALL_PERMISSIONS, Allow
from pyramid.request import Request

from .directives import register_once

ChildFactory = Callable[["Resource", str], "Resource"]


class Resource:
    """Base class for resources: name, parent, request, default ACL."""

    __default_acl__: list[tuple[str, str, Any]] = []
    # The permission needed to learn whether children exist (403 instead of
    # 404 for a caller without it, see plinth.errors.not_found_view).
    __view_permission__: str | None = None

    def __init__(self, parent: Resource | None, name: str, request: Request | None = None):
        self.__parent__ = parent
        self.__name__ = name
        self.request: Any = request if request is not None else getattr(parent, "request", None)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.__name__!r}>"

    def children(self, after: str | None = None, limit: int = 50) -> list[Resource] | None:
        """Optional protocol: up to ``limit`` children named after ``after``.

        For browsing the tree (the admin console lists a resource's children
        with it).  Children come in name order; ``after`` is the name of the
        last child of the previous page.  ``None`` (the default) means the
        resource does not list its children; a list, possibly empty, means it
        does.  Callers leave out the children the viewer may not view.
        """
        return None


class Root(Resource):
    """``/``: its children are whatever the enabled plugins mounted."""

    __default_acl__ = [(Allow, "group:admins", ALL_PERMISSIONS)]

    def __init__(self, request: Request):
        super().__init__(None, "", request)
        self.mounted: dict[str, ChildFactory] = request.registry.get("plinth.tree", {})

    def __getitem__(self, name: str) -> Resource:
        factory = self.mounted[name]
        return factory(self, name)

    def children(self, after: str | None = None, limit: int = 50) -> list[Resource]:
        names = sorted(n for n in self.mounted if after is None or n > after)[:limit]
        return [self[name] for name in names]


def root_factory(request: Request) -> Root:
    return Root(request)


def add_tree_child(config: Any, name: str, factory: ChildFactory) -> None:
    """Directive ``config.add_tree_child(name, factory)``: mount ``/name``.

    ``factory(parent, name)`` returns the child resource.  Two plugins mounting
    the same name conflict at start-up.
    """
    if not name or "/" in name or name.startswith("@@"):
        from pyramid.exceptions import ConfigurationError

        raise ConfigurationError(f"bad resource-tree child name {name!r}")
    factory = config.maybe_dotted(factory)
    register_once(config, "tree", name, factory, "plinth.tree", factory=factory)


def includeme(config: Any) -> None:
    config.registry.setdefault("plinth.tree", {})
    config.add_directive("add_tree_child", add_tree_child)
    config.set_root_factory(root_factory)
