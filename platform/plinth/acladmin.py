"""Administering ACLs: read, replace, explain, find grants (used by API and CLI)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pyramid.authorization import Authenticated, Everyone
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from . import audit
from .acl import (
    ALL,
    AclEntry,
    AclResource,
    Decision,
    decide,
    lineage_acls,
    matches,
    path_of,
    registered_permissions,
)
from .db import insert_missing
from .delegation import check_delegation
from .errors import api_error
from .interfaces import IIdentityProvider
from .roles import is_grantable, role_table
from .security import superuser_among, superusers
from .securityversion import lock_for_write
from .services import query_service

PRINCIPAL = re.compile(r"(user:|group:)[A-Za-z0-9._@+-]{1,150}")
SYSTEM_PRINCIPALS = (Everyone, Authenticated)

ACL_BODY_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["entries"],
    "properties": {
        "entries": {
            "type": "array",
            "maxItems": 200,
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["action", "principal", "permission"],
                "properties": {
                    "action": {"type": "string", "enum": ["Allow", "Deny"]},
                    "principal": {"type": "string", "minLength": 1, "maxLength": 200},
                    "permission": {"type": "string", "minLength": 1, "maxLength": 100},
                },
            },
        },
        "inherit": {"type": "boolean"},
    },
}


def etag_for(state: AclResource | None) -> str:
    return f"acl-{state.version if state is not None else 0}"


def acl_state(db: Session, path: str) -> AclResource | None:
    return db.get(AclResource, path)


def locked_acl_state(db: Session, path: str) -> AclResource:
    """The ACL row of ``path``, created if missing, locked until the transaction ends.

    Writers of one ACL queue here before they compare the ETag, on any number
    of processes: PostgreSQL's row lock (SQLite's write lock is already held),
    taken on a row that exists because it is inserted first, race-free.  A
    row created here has version 0, the ETag of a resource never written.
    """
    lock_for_write(db)
    insert_missing(db, AclResource, {"path": path, "inherit": True, "version": 0})
    return db.scalars(
        select(AclResource)
        .where(AclResource.path == path)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()


def describe(db: Session, resource: Any, cache: dict[str, Any] | None = None) -> dict[str, Any]:
    acls = lineage_acls(resource, db, cache if cache is not None else {})
    own, inherited = acls[0], acls[1:]
    state = acl_state(db, own.path)
    return {
        "resource": own.path,
        "inherit": own.inherit,
        "entries": [_entry(e) for e in own.entries if e.source == "stored"],
        "defaults": [_entry(e) for e in own.entries if e.source == "default"],
        "inherited": [
            {
                "resource": acl.path,
                "inherit": acl.inherit,
                "entries": [_entry(e) for e in acl.entries],
            }
            for acl in (inherited if own.inherit else [])
        ],
        "etag": etag_for(state),
    }


def _entry(entry: Any) -> dict[str, Any]:
    return {
        "action": entry.action,
        "principal": entry.principal,
        "permission": entry.permission,
        "position": entry.position,
        "source": entry.source,
    }


def validate_entries(
    registry: Any, entries: list[dict[str, str]], roles: Mapping[str, frozenset[str]]
) -> None:
    """400 ``invalid_acl`` for a malformed principal, or a permission or role
    the running configuration does not know."""
    permissions = registered_permissions(registry)
    problems = []
    for index, entry in enumerate(entries):
        principal, permission = entry["principal"], entry["permission"]
        if principal not in SYSTEM_PRINCIPALS and not PRINCIPAL.fullmatch(principal):
            problems.append(
                {
                    "field": f"entries/{index}/principal",
                    "message": "a principal is user:NAME, group:NAME, "
                    "system.Everyone or system.Authenticated",
                }
            )
        if not is_grantable(permission, registry, roles):
            what = "role" if permission.startswith("role:") else "permission"
            problems.append(
                {
                    "field": f"entries/{index}/permission",
                    "message": f"unknown {what} {permission!r}",
                }
            )
    if problems:
        raise api_error(
            400,
            "invalid_acl",
            "the ACL has invalid entries",
            {
                "errors": problems,
                "permissions": [ALL, *permissions],
                "roles": [f"role:{name}" for name in roles],
            },
        )


def replace_acl(
    db: Session,
    registry: Any,
    resource: Any,
    entries: list[dict[str, str]],
    inherit: bool | None,
    actor: str | None,
    request_id: str | None = None,
    caller: list[str] | None = None,
) -> dict[str, Any]:
    """Replace the stored entries of ``resource``; audited; guards the root.

    ``caller`` is the principals of the API caller, whose granting limits
    apply (:mod:`plinth.delegation`); None for the CLI, which is exempt.
    """
    roles = role_table(db, registry)
    validate_entries(registry, entries, roles)
    if caller is not None:
        check_delegation(db, registry, resource, caller, entries, inherit, roles)
    path = path_of(resource)
    state = locked_acl_state(db, path)
    before = describe(db, resource)
    if inherit is not None:
        state.inherit = inherit
    state.version += 1
    db.flush()
    db.execute(delete(AclEntry).where(AclEntry.path == path))
    for position, entry in enumerate(entries):
        db.add(
            AclEntry(
                path=path,
                position=position,
                action=entry["action"],
                principal=entry["principal"],
                permission=entry["permission"],
            )
        )
    db.flush()
    if resource.__parent__ is None:
        _guard_root(db, registry, resource, roles)
    after = describe(db, resource)
    audit.record(
        db,
        "acl.changed",
        actor,
        path,
        {"entries": before["entries"], "inherit": before["inherit"]},
        {"entries": after["entries"], "inherit": after["inherit"]},
        request_id,
    )
    return after


def preview_acl(
    db: Session,
    registry: Any,
    resource: Any,
    entries: list[dict[str, str]],
    inherit: bool | None,
    caller: list[str] | None = None,
) -> dict[str, Any]:
    """``PUT @@acl?dry_run=true``: the same checks as :func:`replace_acl`, then
    the decisions the change would flip; nothing written, nothing audited."""
    from .dryrun import preview

    roles = role_table(db, registry)
    validate_entries(registry, entries, roles)
    if caller is not None:
        check_delegation(db, registry, resource, caller, entries, inherit, roles)
    return {
        "dry_run": True,
        "resource": path_of(resource),
        "changes": preview(db, registry, resource, entries, inherit),
    }


def _guard_root(db: Session, registry: Any, root: Any, roles: Mapping[str, frozenset[str]]) -> None:
    if superusers(registry):
        return  # superusers manage every ACL whatever the entries say
    acls = lineage_acls(root, db, {})
    grantees = {
        e.principal
        for e in acls[0].entries
        if e.action == "Allow" and matches(e.permission, "acl.manage", roles)
    }
    if not any(decide(acls, [p], "acl.manage", roles).allowed for p in grantees):
        raise api_error(
            409, "last_acl_manager", "this change would leave nobody with acl.manage on the root"
        )


def expand(db: Session, registry: Any, principal: str) -> list[str] | None:
    """The principals a request by ``principal`` would hold."""
    if principal == Everyone:
        return [Everyone]
    if principal == Authenticated:
        return [Everyone, Authenticated]
    provider = query_service(registry, IIdentityProvider)
    if provider is None:
        return [Everyone, principal]
    expanded = provider.expand_principal(db, principal)
    if expanded is None:
        return None
    return [Everyone, *[p for p in expanded if p != Everyone]]


def explain(
    db: Session, registry: Any, resource: Any, principals: list[str], permission: str | None = None
) -> list[dict[str, Any]]:
    """Each permission's decision for ``principals``; a superuser's names why."""
    superuser = superuser_among(registry, principals)
    acls = lineage_acls(resource, db, {})
    roles = role_table(db, registry)
    names = [permission] if permission else list(registered_permissions(registry))
    result = []
    for name in names:
        decision = (
            Decision(True, name, None, superuser=superuser)
            if superuser
            else decide(acls, principals, name, roles)
        )
        result.append(
            {
                "permission": name,
                "allowed": decision.allowed,
                "decided_by": decision.entry.as_dict() if decision.entry else None,
                "role": decision.role,
                "superuser": decision.superuser,
                "explanation": decision.explain(),
            }
        )
    return result


def stored_at(db: Session, path: str) -> list[dict[str, str]]:
    """The stored entries at ``path``, whether or not a resource is there."""
    rows = db.scalars(select(AclEntry).where(AclEntry.path == path).order_by(AclEntry.position))
    return [
        {"action": r.action, "principal": r.principal, "permission": r.permission} for r in rows
    ]


def replace_at_path(
    db: Session, registry: Any, path: str, entries: list[dict[str, str]], actor: str | None
) -> None:
    """Replace the stored entries at a ``path`` no resource answers to (the
    operator's tool for what a deleted item or a disabled plugin left); audited."""
    validate_entries(registry, entries, role_table(db, registry))
    state = locked_acl_state(db, path)
    before = stored_at(db, path)
    state.version += 1
    db.flush()
    db.execute(delete(AclEntry).where(AclEntry.path == path))
    for position, entry in enumerate(entries):
        db.add(AclEntry(path=path, position=position, **entry))
    db.flush()
    audit.record(
        db,
        "acl.changed",
        actor,
        path,
        {"entries": before},
        {"entries": entries, "reason": "the path does not resolve"},
    )


def forget_path(db: Session, path: str, actor: str | None) -> int:
    """Remove the stored ACL of a ``path`` no resource answers to; audited."""
    lock_for_write(db)
    before = stored_at(db, path)
    db.execute(delete(AclEntry).where(AclEntry.path == path))
    db.execute(delete(AclResource).where(AclResource.path == path))
    audit.record(
        db,
        "acl.changed",
        actor,
        path,
        {"entries": before},
        {"entries": [], "reason": "the resource no longer resolves"},
    )
    return len(before)


def grants_of(db: Session, principal: str) -> list[dict[str, Any]]:
    rows = db.execute(
        select(AclEntry)
        .where(AclEntry.principal == principal)
        .order_by(AclEntry.path, AclEntry.position)
    ).scalars()
    return [
        {
            "resource": r.path,
            "position": r.position,
            "action": r.action,
            "principal": r.principal,
            "permission": r.permission,
        }
        for r in rows
    ]


def remove_grants_of(
    db: Session, principal: str, actor: str | None, request_id: str | None = None
) -> int:
    removed = grants_of(db, principal)
    if not removed:
        return 0
    paths = sorted({g["resource"] for g in removed})
    # Queue with the other writers of these ACLs (in one order: no deadlock),
    # so that each version is handed out once; then read what to remove.
    states = {path: locked_acl_state(db, path) for path in paths}
    removed = [g for g in grants_of(db, principal) if g["resource"] in states]
    paths = sorted({g["resource"] for g in removed})
    db.execute(delete(AclEntry).where(AclEntry.principal == principal, AclEntry.path.in_(paths)))
    for path in paths:
        states[path].version += 1
        audit.record(
            db,
            "acl.changed",
            actor,
            path,
            {"removed": [g for g in removed if g["resource"] == path]},
            {"reason": f"{principal} deleted"},
            request_id,
        )
    return len(removed)
