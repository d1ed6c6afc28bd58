"""Roles: named sets of permissions that an ACL entry grants as ``role:NAME``.

Plugins declare roles with ``config.declare_role`` (kept in the registry, no
query needed); superusers store more through ``PUT /@@roles/{name}`` (the
``acl_roles`` table).  The engine asks a :class:`RoleTable`, which reads the
stored roles at most once, and only when an entry names a role that no plugin
declared: a request whose lineage names only declared roles (or none) costs no
statement more.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from pyramid.exceptions import ConfigurationError
from sqlalchemy import JSON, String, delete, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Mapped, Session, mapped_column

from . import audit
from .acl import ALL, ROLE_PREFIX, AclEntry, registered_permissions
from .db import Base
from .errors import api_error
from .securitycache import cached, security_cache
from .securityversion import lock_for_write

REGISTRY_KEY = "plinth.roles"
# Lower case, digits and . _ -, so that "role:NAME" fits an entry's permission.
ROLE_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")

ROLE_BODY_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["permissions"],
    "properties": {
        "title": {"type": "string", "maxLength": 200},
        "permissions": {
            "type": "array",
            "minItems": 1,
            "maxItems": 100,
            "uniqueItems": True,
            "items": {"type": "string", "minLength": 1, "maxLength": 100},
        },
    },
}


class StoredRole(Base):
    """A role added at run time by a superuser."""

    __tablename__ = "acl_roles"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    title: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    permissions: Mapped[list[str]] = mapped_column(JSON, nullable=False)


@dataclass(frozen=True)
class Role:
    name: str
    title: str
    permissions: frozenset[str]
    source: str  # "declared" or "stored"

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "permissions": sorted(self.permissions),
            "source": self.source,
        }


def declare_role(config: Any, name: str, permissions: Any, title: str = "") -> None:
    """Directive ``config.declare_role(name, permissions, title=...)``.

    ``permissions`` must all be declared (checked when the configuration
    commits, after every plugin declared its own); two plugins declaring one
    role conflict.
    """
    if not isinstance(name, str) or not ROLE_NAME.fullmatch(name):
        raise ConfigurationError(f"bad role name {name!r}: lower case letters, digits, . _ -")
    if isinstance(permissions, str):
        raise ConfigurationError(f"role {name!r}: permissions is a list of names")
    role = Role(name, title or name, frozenset(permissions), "declared")
    if not role.permissions:
        raise ConfigurationError(f"role {name!r} has no permissions")

    def register() -> None:
        known = registered_permissions(config.registry)
        unknown = sorted(p for p in role.permissions if p not in known)
        if unknown:
            raise ConfigurationError(
                f"role {name!r} names undeclared permissions {', '.join(unknown)}"
            )
        config.registry.setdefault(REGISTRY_KEY, {})[name] = role

    intr = config.introspectable("plinth role", name, role.title, "plinth role")
    intr["permissions"] = sorted(role.permissions)
    # After the permissions: they are registered by actions of order 0.
    config.action(("plinth.role", name), register, introspectables=(intr,), order=1)


def declared_roles(registry: Any) -> dict[str, Role]:
    return dict(registry.get(REGISTRY_KEY, {}))


def stored_roles(db: Session | Connection) -> dict[str, Role]:
    connection = db.connection() if isinstance(db, Session) else db
    rows = connection.execute(select(StoredRole.name, StoredRole.title, StoredRole.permissions))
    return {
        name: Role(name, title or name, frozenset(permissions or ()), "stored")
        for name, title, permissions in rows
    }


class RoleTable(Mapping[str, frozenset[str]]):
    """Role name -> permissions: declared roles at once, stored ones on first need."""

    def __init__(self, declared: Mapping[str, Role], load: Callable[[], dict[str, Role]]):
        self._declared = declared
        self._load = load
        self._stored: dict[str, Role] | None = None

    def _all(self) -> dict[str, Role]:
        if self._stored is None:
            self._stored = self._load()
        return {**self._stored, **self._declared}

    def role(self, name: str) -> Role | None:
        found = self._declared.get(name)
        return found if found is not None else self._all().get(name)

    def __getitem__(self, name: str) -> frozenset[str]:
        found = self.role(name)
        if found is None:
            raise KeyError(name)
        return found.permissions

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._all()))

    def __len__(self) -> int:
        return len(self._all())


def role_table(db: Session, registry: Any) -> RoleTable:
    """The roles in force, stored ones read from ``db`` at most once."""
    return RoleTable(declared_roles(registry), lambda: stored_roles(db))


def request_roles(request: Any) -> RoleTable:
    """The request's role table, built once per request.

    Stored roles come from the process's cache at the request's security
    version (``acl_roles`` is a security table): a warm read spends no
    statement on them.
    """
    table = request.__dict__.get("_plinth_roles")
    if table is None:
        cache = security_cache(request.registry, "acl.roles")
        table = request.__dict__["_plinth_roles"] = RoleTable(
            declared_roles(request.registry),
            lambda: cached(request, cache, "stored", lambda: stored_roles(request.db)),
        )
    return table


def all_roles(db: Session, registry: Any) -> list[Role]:
    table = role_table(db, registry)
    return [r for r in (table.role(name) for name in table) if r is not None]


def check_name(name: str) -> None:
    if not ROLE_NAME.fullmatch(name):
        raise api_error(
            400,
            "invalid_request",
            f"bad role name {name!r}",
            {
                "errors": [
                    {
                        "location": "path",
                        "field": "name",
                        "message": "1 to 64 of a-z 0-9 . _ -, starting with a letter or digit",
                    }
                ]
            },
        )


def save_role(
    db: Session,
    registry: Any,
    name: str,
    permissions: list[str],
    title: str | None,
    actor: str | None,
    request_id: str | None = None,
) -> tuple[Role, bool]:
    """Create or replace the stored role ``name``; (role, created).  Audited."""
    check_name(name)
    if name in declared_roles(registry):
        raise api_error(
            409, "declared_role", f"role {name!r} is declared by a plugin and cannot be changed"
        )
    known = registered_permissions(registry)
    lock_for_write(db)
    problems = [
        {"field": f"permissions/{i}", "message": f"unknown permission {p!r}"}
        for i, p in enumerate(permissions)
        if p not in known
    ]
    if problems:
        raise api_error(
            400,
            "invalid_role",
            "the role names unknown permissions",
            {"errors": problems, "permissions": list(known)},
        )
    current = db.get(StoredRole, name)
    before = (
        None
        if current is None
        else {"title": current.title, "permissions": list(current.permissions)}
    )
    if current is None:
        current = StoredRole(name=name, title=title or "", permissions=sorted(permissions))
        db.add(current)
    else:
        current.permissions = sorted(permissions)
        if title is not None:
            current.title = title
    db.flush()
    after = {"title": current.title, "permissions": list(current.permissions)}
    audit.record(db, "role.saved", actor, f"role:{name}", before, after, request_id)
    role = Role(name, current.title or name, frozenset(current.permissions), "stored")
    return role, before is None


def entries_naming(db: Session, name: str) -> list[dict[str, Any]]:
    rows = db.execute(
        select(AclEntry.path, AclEntry.position)
        .where(AclEntry.permission == ROLE_PREFIX + name)
        .order_by(AclEntry.path, AclEntry.position)
    )
    return [{"resource": path, "position": position} for path, position in rows]


def delete_role(
    db: Session, registry: Any, name: str, actor: str | None, request_id: str | None = None
) -> None:
    """Delete the stored role ``name``: 409 while entries name it.  Audited."""
    check_name(name)
    if name in declared_roles(registry):
        raise api_error(
            409, "declared_role", f"role {name!r} is declared by a plugin and cannot be deleted"
        )
    lock_for_write(db)
    current = db.get(StoredRole, name)
    if current is None:
        raise api_error(404, "not_found", f"no stored role {name!r}")
    using = entries_naming(db, name)
    if using:
        raise api_error(
            409,
            "role_in_use",
            f"{len(using)} ACL entr(ies) name role:{name}: revoke them first",
            {"entries": using[:50], "count": len(using)},
        )
    before = {"title": current.title, "permissions": list(current.permissions)}
    db.execute(delete(StoredRole).where(StoredRole.name == name))
    audit.record(db, "role.deleted", actor, f"role:{name}", before, None, request_id)


def is_grantable(permission: str, registry: Any, roles: Mapping[str, frozenset[str]]) -> bool:
    """Whether an entry may name ``permission``: ALL, a declared permission, or
    ``role:NAME`` for a role in force."""
    if permission == ALL or permission in registered_permissions(registry):
        return True
    name = permission[len(ROLE_PREFIX) :] if permission.startswith(ROLE_PREFIX) else None
    return name is not None and name in roles


def includeme(config: Any) -> None:
    config.registry.setdefault(REGISTRY_KEY, {})
    config.add_directive("declare_role", declare_role)
    config.declare_role("acl.admin", ["acl.view", "acl.manage"], title="Read and change ACLs")
