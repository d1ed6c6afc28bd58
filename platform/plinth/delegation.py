"""Granting limits: whoever manages an ACL hands on only what it holds.

PRODUCT.md section 5, "Safe delegation".  A caller who is not a superuser and
replaces the ACL of a resource R may:

- add an entry only through :func:`may_grant`: never ``ALL`` nor a system
  principal, and an Allow only for a permission the caller holds on R (and on
  every resource below R whose stored ACL reaches R);
- remove and reorder entries, as long as, for every permission the caller does
  not hold, no principal gains it (:func:`first_gain`): removing a Deny or
  moving an Allow above a Deny is a grant too;
- turn ``inherit`` off (it only takes permissions away), but not back on.

Everything is judged against the caller's permissions *before* the change, so
a single write cannot lift itself.  Superusers are exempt, and so is the CLI
(which passes no caller).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from pyramid.authorization import Allow, Authenticated, Deny, Everyone
from pyramid.traversal import find_resource
from sqlalchemy import select
from sqlalchemy.orm import Session

from .acl import (
    ALL,
    NO_ROLES,
    AclResource,
    decide,
    lineage_acls,
    load_stored,
    matches,
    path_of,
    registered_permissions,
    role_name,
)
from .errors import APIError, api_error
from .security import superuser_among

SYSTEM_PRINCIPALS = (Everyone, Authenticated)

Pair = tuple[str, str]  # (action, principal) of the entries relevant to one permission


def may_grant(
    entry: dict[str, str], held: set[str], roles: Mapping[str, frozenset[str]] = NO_ROLES
) -> str | None:
    """Why a non-superuser holding ``held`` here may not add ``entry``, or None.

    The one place that decides what a delegate may hand on: a role only if
    the caller holds all its permissions (an unknown role grants nothing, and
    the ACL's validation refuses it before this).
    """
    principal, permission = entry["principal"], entry["permission"]
    if principal in SYSTEM_PRINCIPALS:
        return f"only a superuser writes entries naming {principal}"
    if permission == ALL:
        return "only a superuser writes entries for ALL"
    if entry["action"] != Allow:
        return None
    name = role_name(permission)
    if name is not None:
        missing = sorted(set(roles.get(name, ())) - held)
        if missing:
            return (
                f"you may grant a role only if you hold all its permissions here, "
                f"and not {', '.join(missing)} of {permission}"
            )
        return None
    if permission not in held:
        return f"you may grant only permissions you hold here, and not {permission}"
    return None


def held_permissions(
    db: Session,
    registry: Any,
    resource: Any,
    principals: list[str],
    roles: Mapping[str, frozenset[str]] = NO_ROLES,
) -> set[str]:
    """The permissions ``principals`` hold on ``resource`` and on every resource
    below it that has stored entries and inherits from it.

    A grant at ``resource`` reaches those descendants, so a caller denied a
    permission somewhere below may not grant it above.
    """
    cache: dict[str, Any] = {}
    names = list(registered_permissions(registry))
    acls = lineage_acls(resource, db, cache)
    held = {p for p in names if decide(acls, principals, p, roles).allowed}
    path = path_of(resource)
    for descendant in _stored_descendants(db, resource, path):
        chain = lineage_acls(descendant, db, cache)
        paths = [acl.path for acl in chain]
        if path not in paths:
            continue
        cut = paths.index(path)
        if not all(acl.inherit for acl in chain[:cut]):
            continue  # the walk stops below: a change here does not reach it
        held = {p for p in held if decide(chain, principals, p, roles).allowed}
    return held


def _stored_descendants(db: Session, resource: Any, path: str) -> list[Any]:
    prefix = "/" if path == "/" else path + "/"
    stmt = select(AclResource.path).where(
        AclResource.path.startswith(prefix, autoescape=True), AclResource.path != path
    )
    root = resource
    while getattr(root, "__parent__", None) is not None:
        root = root.__parent__
    found = []
    for descendant_path in db.scalars(stmt):
        try:
            found.append(find_resource(root, descendant_path))
        except KeyError:
            continue  # a stored ACL of something gone: nothing to protect
    return found


def _relevant(
    entries: Sequence[Any], permission: str, roles: Mapping[str, frozenset[str]]
) -> list[tuple[int, Pair]]:
    result = []
    for index, entry in enumerate(entries):
        action, principal, perm = _fields(entry)
        if matches(perm, permission, roles):
            result.append((index, (action, principal)))
    return result


def _fields(entry: Any) -> tuple[str, str, str]:
    if isinstance(entry, dict):
        return entry["action"], entry["principal"], entry["permission"]
    return entry.action, entry.principal, entry.permission


def first_gain(
    old: Sequence[Any],
    new: Sequence[Any],
    permission: str,
    old_inherit: bool,
    new_inherit: bool,
    roles: Mapping[str, frozenset[str]] = NO_ROLES,
) -> tuple[str, int, Any] | None:
    """Whether replacing ``old`` by ``new`` may give some principal ``permission``.

    Exact at the level of this resource for any set of principals a caller
    could hold, whatever the parent decides.  Returns ("new", index, entry) for
    an entry of ``new`` that would allow where ``old`` did not, ("old", index,
    entry) for a removed Deny whose absence lets the parent's decision through,
    ("inherit", -1, None) for inheritance turned back on; None if nothing is
    gained.
    """
    before, after = _relevant(old, permission, roles), _relevant(new, permission, roles)
    for position, (index, (action, principal)) in enumerate(after):
        if action != Allow:
            continue
        earlier = {p for _, (_, p) in after[:position]}
        if principal in earlier:
            continue  # an earlier entry decides every caller this one would
        first = next((i for i, (_, (_, p)) in enumerate(before) if p == principal), None)
        if first is None or before[first][1][0] != Allow:
            return "new", index, new[index]
        for _, (old_action, old_principal) in before[:first]:
            if old_action == Deny and old_principal not in earlier:
                return "new", index, new[index]
    if not new_inherit:
        return None
    if not old_inherit:
        return "inherit", -1, None
    named = {p for _, (_, p) in after}
    for index, (action, principal) in before:
        if action == Deny and principal not in named:
            return "old", index, old[index]
    return None


def denied(message: str, index: int | None = None, entry: Any = None) -> APIError:
    details: dict[str, Any] = {}
    if entry is not None:
        action, principal, permission = _fields(entry)
        details["entry"] = {"action": action, "principal": principal, "permission": permission}
    if index is not None:
        details["index"] = index
        details["field"] = f"entries/{index}"
    return api_error(403, "delegation_denied", message, details)


def check_delegation(
    db: Session,
    registry: Any,
    resource: Any,
    caller: list[str],
    entries: list[dict[str, str]],
    inherit: bool | None,
    roles: Mapping[str, frozenset[str]] = NO_ROLES,
) -> None:
    """Raise 403 ``delegation_denied`` unless ``caller`` may make this change."""
    if superuser_among(registry, caller) is not None:
        return
    path = path_of(resource)
    old_inherit, old = load_stored(db, [path]).get(path, (True, []))
    new_inherit = old_inherit if inherit is None else inherit
    held = held_permissions(db, registry, resource, caller, roles)
    kept = Counter(_fields(e) for e in old)
    for index, entry in enumerate(entries):
        key = _fields(entry)
        if kept[key] > 0:
            kept[key] -= 1
            continue
        reason = may_grant(entry, held, roles)
        if reason is not None:
            raise denied(f"entry {index} is not yours to write: {reason}", index, entry)
    if new_inherit and not old_inherit:
        raise denied(
            "only a superuser turns inheritance back on: it would grant what the parents allow"
        )
    for permission in registered_permissions(registry):
        if permission in held:
            continue
        gain = first_gain(old, entries, permission, old_inherit, new_inherit, roles)
        if gain is None:
            continue
        where, index, entry = gain
        if where == "new":
            raise denied(
                f"entry {index} would grant {permission}, which you do not hold "
                "here, to callers it was denied",
                index,
                entry,
            )
        raise denied(
            f"removing this Deny would grant {permission}, which you do not hold here", None, entry
        )
