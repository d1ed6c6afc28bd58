"""The permission engine: stored ACL rows plus code defaults, Pyramid's rule.

A resource's ACL is its stored entries (ordered by position) followed by its
code defaults (``__default_acl__``).  Walking from the context up to the root,
the first entry whose principal the caller has and whose permission matches
decides; a resource whose ``inherit`` flag is off stops the walk there; no
match denies.  The stored entries of a request's whole lineage come from one
query and are cached on the request.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pyramid.authorization import ALL_PERMISSIONS, Allow, Deny
from pyramid.traversal import resource_path
from sqlalchemy import Boolean, ForeignKey, Integer, String, UniqueConstraint, bindparam, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from .db import Base
from .directives import register_once
from .securityversion import SecurityVersion

ALL = "ALL"
ACTIONS = (Allow, Deny)
# An entry's permission may name a role: it grants every permission of the role.
ROLE_PREFIX = "role:"
NO_ROLES: Mapping[str, frozenset[str]] = {}


class AclResource(Base):
    """Per-resource ACL state: the inherit flag and a version for ETags."""

    __tablename__ = "acl_resources"

    path: Mapped[str] = mapped_column(String(512), primary_key=True)
    inherit: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    version: Mapped[int] = mapped_column(Integer, default=1, nullable=False)


class AclEntry(Base):
    __tablename__ = "acl_entries"
    __table_args__ = (UniqueConstraint("path", "position"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    path: Mapped[str] = mapped_column(
        String(512), ForeignKey("acl_resources.path", ondelete="CASCADE"), nullable=False
    )
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    action: Mapped[str] = mapped_column(String(8), nullable=False)
    principal: Mapped[str] = mapped_column(String(200), nullable=False, index=True)
    permission: Mapped[str] = mapped_column(String(100), nullable=False)


@dataclass(frozen=True)
class Entry:
    """One ACL entry as the engine sees it."""

    path: str
    position: int
    action: str
    principal: str
    permission: str
    source: str  # "stored" or "default"

    def as_dict(self) -> dict[str, Any]:
        return {
            "resource": self.path,
            "position": self.position,
            "action": self.action,
            "principal": self.principal,
            "permission": self.permission,
            "source": self.source,
        }


@dataclass(frozen=True)
class ResourceAcl:
    path: str
    inherit: bool
    entries: tuple[Entry, ...]


@dataclass(frozen=True)
class Decision:
    allowed: bool
    permission: str
    entry: Entry | None
    stopped_at: str | None = None  # path whose inherit=false ended the walk
    superuser: str | None = None  # the plinth.superusers principal that decided
    role: str | None = None  # the role of the deciding entry that held the permission

    def __bool__(self) -> bool:
        return self.allowed

    def explain(self) -> str:
        if self.superuser is not None:
            return (
                f"superuser: {self.superuser} holds every permission everywhere (plinth.superusers)"
            )
        if self.entry is not None:
            e = self.entry
            through = f", through role {self.role}" if self.role is not None else ""
            return (
                f"{e.action} {e.principal} {e.permission} at {e.path} "
                f"({e.source} entry {e.position}{through})"
            )
        if self.stopped_at is not None:
            return f"no entry matched and {self.stopped_at} does not inherit: denied"
        return "no entry matched: denied by default"


def lineage(resource: Any) -> list[Any]:
    """The resources whose ACLs apply, from ``resource`` up to the root.

    A resource may name an ``__acl_parent__`` to inherit from another branch
    than its URL parent (a reservation inherits from its stock level, so that
    grants at a warehouse apply to it).
    """
    chain = []
    while resource is not None:
        chain.append(resource)
        parent = getattr(resource, "__acl_parent__", None)
        resource = parent if parent is not None else getattr(resource, "__parent__", None)
    return chain


def path_of(resource: Any) -> str:
    return resource_path(resource) or "/"


def normalize_permission(permission: Any) -> str:
    return ALL if permission is ALL_PERMISSIONS or permission == ALL else str(permission)


def default_entries(resource: Any, path: str) -> list[Entry]:
    acl = getattr(resource, "__default_acl__", None) or []
    if callable(acl):
        acl = acl()
    entries: list[Entry] = []
    for index, (action, principal, declared) in enumerate(acl):
        single = isinstance(declared, str) or declared is ALL_PERMISSIONS
        entries.extend(
            Entry(path, index, action, principal, normalize_permission(permission), "default")
            for permission in ([declared] if single else declared)
        )
    return entries


def stored_acls_query(where: Any, with_version: bool = False) -> Any:
    """Stored ACL rows (path, inherit, position, action, principal,
    permission) of the resources matching ``where``, in path order.

    ``with_version`` puts the security version in front of every row, and
    yields one row (with a NULL path) when nothing matches, so that the
    version is read in the same statement.
    """
    res, ent = AclResource.__table__, AclEntry.__table__
    columns = (
        res.c.path,
        res.c.inherit,
        ent.c.position,
        ent.c.action,
        ent.c.principal,
        ent.c.permission,
    )
    if with_version:
        sv = SecurityVersion.__table__
        source = sv.outerjoin(res, where).outerjoin(ent, ent.c.path == res.c.path)
        return (
            select(sv.c.version, *columns).select_from(source).order_by(res.c.path, ent.c.position)
        )
    return (
        select(*columns)
        .select_from(res.outerjoin(ent, ent.c.path == res.c.path))
        .where(where)
        .order_by(res.c.path, ent.c.position)
    )


def collect_stored(rows: Iterable[Any]) -> dict[str, tuple[bool, list[Entry]]]:
    """Rows of :func:`stored_acls_query`, by path."""
    found: dict[str, tuple[bool, list[Entry]]] = {}
    for path, inherit, position, action, principal, permission in rows:
        if path is None:
            continue  # the version's row when nothing matched
        _, entries = found.setdefault(path, (bool(inherit), []))
        if position is not None:
            entries.append(Entry(path, position, action, principal, permission, "stored"))
    return found


# Built once: on the hot path, constructing a statement costs more than running it.
_PATHS = AclResource.__table__.c.path.in_(bindparam("paths", expanding=True))
LINEAGE_QUERY = stored_acls_query(_PATHS)
LINEAGE_WITH_VERSION_QUERY = stored_acls_query(_PATHS, with_version=True)


def load_stored(db: Session, paths: Sequence[str]) -> dict[str, tuple[bool, list[Entry]]]:
    """Stored entries and inherit flags of ``paths``, in one statement."""
    # On the session's connection: the ORM layer adds cost and nothing here.
    return collect_stored(db.connection().execute(LINEAGE_QUERY, {"paths": list(paths)}))


def load_stored_with_version(
    db: Session, paths: Sequence[str]
) -> tuple[int, dict[str, tuple[bool, list[Entry]]]]:
    """The security version and what :func:`load_stored` reads, in one statement."""
    rows = db.connection().execute(LINEAGE_WITH_VERSION_QUERY, {"paths": list(paths)}).all()
    return int(rows[0][0]), collect_stored(row[1:] for row in rows)


def lineage_acls(
    resource: Any, db: Session, cache: dict[str, Any] | None = None
) -> list[ResourceAcl]:
    """The effective ACL of every resource from ``resource`` up to the root."""
    chain = lineage(resource)
    paths = [path_of(r) for r in chain]
    cache = {} if cache is None else cache
    missing = [p for p in paths if p not in cache]
    if missing:
        stored = load_stored(db, missing)
        for p in missing:
            cache[p] = stored.get(p, (True, []))
    result = []
    for res, path in zip(chain, paths, strict=True):
        inherit, entries = cache[path]
        defaults = tuple(default_entries(res, path))
        result.append(ResourceAcl(path, inherit, tuple(entries) + defaults))
    return result


def role_name(permission: str) -> str | None:
    """The role an entry's permission names (``role:NAME``), or None."""
    return permission[len(ROLE_PREFIX) :] if permission.startswith(ROLE_PREFIX) else None


def matches(
    entry_permission: str, permission: str, roles: Mapping[str, frozenset[str]] = NO_ROLES
) -> bool:
    """Whether an entry for ``entry_permission`` speaks about ``permission``.

    A role unknown to ``roles`` (deleted, or from a disabled plugin) grants
    nothing.
    """
    if entry_permission in (permission, ALL):
        return True
    name = role_name(entry_permission)
    return name is not None and permission in roles.get(name, ())


def decide(
    acls: Iterable[ResourceAcl],
    principals: Iterable[str],
    permission: str,
    roles: Mapping[str, frozenset[str]] = NO_ROLES,
) -> Decision:
    """Pyramid's rule over the lineage: first match wins; no match denies.

    ``roles`` maps role names to their permissions: the decision is a pure
    function of the entries and that table, so either can be cached.
    """
    principal_set = set(principals)
    for acl in acls:
        for entry in acl.entries:
            if entry.principal not in principal_set:
                continue
            held = entry.permission
            if held in (permission, ALL):
                return Decision(entry.action == Allow, permission, entry)
            if held.startswith(ROLE_PREFIX) and permission in roles.get(
                held[len(ROLE_PREFIX) :], ()
            ):
                return Decision(
                    entry.action == Allow, permission, entry, role=held[len(ROLE_PREFIX) :]
                )
        if not acl.inherit:
            return Decision(False, permission, None, stopped_at=acl.path)
    return Decision(False, permission, None)


def declare_permission(config: Any, name: str, description: str = "") -> None:
    """Directive ``config.declare_permission(name, description)``.

    Declares a permission so that administrators can grant it and the ACL API
    accepts it.  Two plugins declaring the same name conflict.
    """
    register_once(
        config, "permission", name, description, "plinth.permissions", description=description
    )


def registered_permissions(registry: Any) -> dict[str, str]:
    return dict(sorted(registry.get("plinth.permissions", {}).items()))


def includeme(config: Any) -> None:
    config.registry.setdefault("plinth.permissions", {})
    config.add_directive("declare_permission", declare_permission)
    config.declare_permission("acl.view", "read ACLs, explanations and the audit log")
    config.declare_permission("acl.manage", "change ACLs")
