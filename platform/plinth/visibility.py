"""What a caller may see of a collection: the one rule every listing follows.

What a caller may not view is neither shown nor hinted at: collections,
totals and reports leave out the children the caller lacks a permission on.
Listings ask here instead of filtering per view, and always through the
permission engine (:func:`plinth.security.explain_permission`), so that any
rule the engine applies (roles, superusers, ``inherit: false``) applies to
listings too.

Two forms, both loading every stored ACL they need in one statement:

- :func:`visible` keeps, of a few candidate resources, those the caller may
  act on (the reports of ``GET /reports``, the levels of one item);
- :func:`visible_children` answers for *every* child of a container at once,
  existing or not, as a :class:`Visibility`: the decision for a child without
  stored entries of its own, plus the children whose stored entries decide
  otherwise.  ``Visibility.where(column)`` turns it into a SQL condition, so
  that paginated lists, totals and reports stay computed by the database.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from pyramid.httpexceptions import HTTPForbidden
from pyramid.request import Request
from sqlalchemy import and_, false, or_
from sqlalchemy.sql.elements import ColumnElement

from .acl import AclResource, collect_stored, lineage, path_of, stored_acls_query
from .security import (
    acl_cache,
    effective_principals,
    explain_permission,
    prefetch_acls,
    superuser_among,
)
from .securitycache import set_version, version_unknown


@dataclass(frozen=True)
class Visibility:
    """Which children of a container the caller may see, by name.

    ``default`` is the decision for a child without stored ACL entries of its
    own; ``exceptions`` holds the children whose own entries decide otherwise.
    """

    default: bool
    exceptions: Mapping[str, bool] = field(default_factory=dict)

    @property
    def everything(self) -> bool:
        """True when no child is hidden (no filter is needed)."""
        return self.default and all(self.exceptions.values())

    def allows(self, name: str) -> bool:
        return self.exceptions.get(name, self.default)

    @property
    def hidden(self) -> list[str]:
        return sorted(name for name, allowed in self.exceptions.items() if not allowed)

    @property
    def shown(self) -> list[str]:
        return sorted(name for name, allowed in self.exceptions.items() if allowed)

    def where(self, column: Any) -> ColumnElement[bool]:
        """SQL: ``column`` (holding child names) names a visible child.

        A NULL name is not visible.
        """
        if self.default:
            hidden = self.hidden
            present = column.is_not(None)
            return present & column.not_in(hidden) if hidden else present
        shown = self.shown
        return column.in_(shown) if shown else false()


def visible(request: Request, permission: str, resources: Iterable[Any]) -> list[Any]:
    """The ``resources`` on which the caller holds ``permission``, in order.

    The stored ACLs of all their lineages are loaded in one statement (none
    when the request already loaded them).
    """
    candidates = list(resources)
    principals = effective_principals(request)
    if not candidates or superuser_among(request.registry, principals) is not None:
        # A superuser may do anything anywhere: no ACL to read.
        return candidates
    prefetch_acls(request, candidates)
    return [
        resource
        for resource in candidates
        if explain_permission(request, resource, permission, principals).allowed
    ]


def _children_query(prefix: str, lineage_paths: list[str], with_version: bool) -> Any:
    res = AclResource.__table__
    # Children only: '/locations/WH1', not '/locations/WH1/A-1'.
    like = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    child = and_(
        res.c.path.like(like + "%", escape="\\"), res.c.path.not_like(like + "%/%", escape="\\")
    )
    where = or_(child, res.c.path.in_(lineage_paths)) if lineage_paths else child
    return stored_acls_query(where, with_version)


def _load_children(request: Request, container: Any, prefix: str) -> list[str]:
    """Cache the stored ACLs of ``container``'s lineage and of all its children
    (one statement, which reads the security version too when the request
    has not yet); return the names of the children that have any."""
    paths = [path_of(r) for r in lineage(container)]
    connection = request.db.connection()
    if version_unknown(request):
        rows = connection.execute(_children_query(prefix, paths, True)).all()
        set_version(request, rows[0][0])
        found = collect_stored(row[1:] for row in rows)
        cache = acl_cache(request)
        missing = paths
    else:
        cache = acl_cache(request)
        missing = [p for p in paths if p not in cache]
        found = collect_stored(connection.execute(_children_query(prefix, missing, False)))
    for path in missing:
        cache[path] = found.pop(path, (True, []))
    names = []
    for path, stored in found.items():
        cache[path] = stored
        names.append(unquote(path[len(prefix) :]))
    return names


def visible_children(
    request: Request, container: Any, permission: str, child: Callable[[str], Any] | None = None
) -> Visibility:
    """Which children of ``container`` the caller holds ``permission`` on.

    ``child(name)`` builds the child resource called ``name`` without looking
    it up (default: ``container[name]``); it must accept any name, stored or
    not.  Decisions are taken by the permission engine on a child resource,
    so code defaults of the child's class count as well as stored entries.
    """
    principals = effective_principals(request)
    if superuser_among(request.registry, principals) is not None:
        return Visibility(True)  # every child, and no ACL to read
    make = child if child is not None else container.__getitem__
    prefix = path_of(container).rstrip("/") + "/"
    stored = _load_children(request, container, prefix)

    def decide(name: str) -> bool:
        return explain_permission(request, make(name), permission, principals).allowed

    # A child whose name has no stored entries stands for all such children;
    # the statement above showed it has none, so deciding it reads nothing.
    probe = next(name for name in (f"0{n}" for n in range(len(stored) + 1)) if name not in stored)
    acl_cache(request).setdefault(path_of(make(probe)), (True, []))
    default = decide(probe)
    exceptions = {}
    for name in stored:
        try:
            allowed = decide(name)
        except KeyError:
            continue  # entries stored for a name that cannot be a child
        if allowed != default:
            exceptions[name] = allowed
    return Visibility(default, exceptions)


def signed_in(context: Any, request: Request) -> list[tuple[str, Any]]:
    """``permits=`` of a listing that shows each caller what it may see.

    Such a listing needs no permission of its own, only a caller: anonymous
    requests get 401, like every other protected view.
    """
    if request.identity is None:
        raise HTTPForbidden()
    return []
