"""What an ACL change would flip, computed without writing it.

The change replaces the stored entries (and maybe the inherit flag) of one
resource R; it can only change decisions on R and below, and below R only
where a resource with stored entries exists (others decide like their
nearest such ancestor, or like R).  For R and each such resource under it,
every permission is decided before and after for:

- each principal any entry there names, and the system principals: a user
  through its groups, any other alone (a group no entry names decides like
  ``system.Authenticated``);
- each active user, through its groups (:mod:`plinth.whocan`), where the
  per-principal rule of that permission changes.

Superusers never flip.  Nothing is written; the caller runs the same
validation and delegation checks as the real write first.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pyramid.authorization import Authenticated, Everyone
from sqlalchemy.orm import Session

from .acl import Entry, decide, lineage_acls, load_stored, path_of, registered_permissions
from .delegation import _stored_descendants
from .interfaces import IIdentityProvider
from .roles import role_table
from .security import superusers
from .services import query_service
from .whocan import allowed_users, who_rule


def principal_set(principal: str) -> list[str]:
    """What a caller holding only ``principal`` (and the system ones) holds."""
    if principal == Everyone:
        return [Everyone]
    if principal == Authenticated:
        return [Everyone, Authenticated]
    return [Everyone, Authenticated, principal]


def holds(db: Session, registry: Any, principal: str) -> list[str]:
    """What the holder of ``principal`` holds: a known user through its groups,
    anything else alone."""
    if principal.startswith("user:"):
        provider = query_service(registry, IIdentityProvider)
        expanded = provider.expand_principal(db, principal) if provider is not None else None
        if expanded is not None:
            return [Everyone, *[p for p in expanded if p != Everyone]]
    return principal_set(principal)


def preview(
    db: Session, registry: Any, resource: Any, entries: list[dict[str, str]], inherit: bool | None
) -> list[dict[str, Any]]:
    """The (principal, permission, resource) decisions replacing the stored ACL
    of ``resource`` by ``entries`` (and ``inherit``) would flip."""
    path = path_of(resource)
    before_cache: dict[str, Any] = {}
    old_inherit, _ = load_stored(db, [path]).get(path, (True, []))
    reached = [resource, *_stored_descendants(db, resource, path)]
    before = {path_of(r): lineage_acls(r, db, before_cache) for r in reached}
    after_cache = dict(before_cache)
    after_cache[path] = (
        old_inherit if inherit is None else inherit,
        [
            Entry(path, i, e["action"], e["principal"], e["permission"], "stored")
            for i, e in enumerate(entries)
        ],
    )
    after = {path_of(r): lineage_acls(r, db, after_cache) for r in reached}
    roles = role_table(db, registry)
    chosen = superusers(registry)
    permissions = list(registered_permissions(registry))
    changes: dict[tuple[str, str, str], dict[str, Any]] = {}
    named = {Everyone, Authenticated}
    for lineages in (before, after):
        named |= {e.principal for acls in lineages.values() for acl in acls for e in acl.entries}
    held = {p: holds(db, registry, p) for p in sorted(named - chosen)}
    for where in before:
        for permission in permissions:
            for principal, principals in held.items():
                if chosen.intersection(principals):
                    continue
                was = decide(before[where], principals, permission, roles).allowed
                now = decide(after[where], principals, permission, roles).allowed
                if was != now:
                    changes[principal, permission, where] = _change(
                        principal, permission, where, was, now
                    )
            _user_flips(
                db, registry, before[where], after[where], permission, where, roles, chosen, changes
            )
    return [changes[key] for key in sorted(changes, key=lambda k: (k[2], k[1], k[0]))]


def _user_flips(
    db: Session,
    registry: Any,
    before: Any,
    after: Any,
    permission: str,
    where: str,
    roles: Mapping[str, frozenset[str]],
    chosen: frozenset[str],
    changes: dict[tuple[str, str, str], dict[str, Any]],
) -> None:
    old_rule = who_rule(before, permission, roles, chosen)
    new_rule = who_rule(after, permission, roles, chosen)
    if (old_rule.ordered, old_rule.default) == (new_rule.ordered, new_rule.default):
        return
    was = set(allowed_users(db, registry, old_rule))
    now = set(allowed_users(db, registry, new_rule))
    for name in was ^ now:
        principal = f"user:{name}"
        changes[principal, permission, where] = _change(
            principal, permission, where, name in was, name in now
        )


def _change(principal: str, permission: str, where: str, was: bool, now: bool) -> dict[str, Any]:
    return {
        "principal": principal,
        "permission": permission,
        "resource": where,
        "before": "Allow" if was else "Deny",
        "after": "Allow" if now else "Deny",
    }
