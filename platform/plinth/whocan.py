"""Who may do P here: the ACL evaluated per principal, then expanded to users.

Evaluating the engine once per user does not scale to 100,000 users.  Any
active user holds ``system.Everyone``, ``system.Authenticated``, ``user:NAME``
and its groups, so Pyramid's first-match rule over the lineage reduces to a
short list: the first entry for P naming each user or group principal, in
order, up to the first entry naming a system principal (which decides for
every user no earlier entry named) or the first ``inherit: false``.  That
:class:`WhoRule` is what the identity provider turns into one SQL statement
(:meth:`plinth.interfaces.IIdentityProvider.allowed_users`); superusers are
allowed whatever the rule says.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pyramid.authorization import Allow, Authenticated, Everyone
from sqlalchemy.orm import Session

from .acl import ResourceAcl, lineage_acls, matches, path_of, role_name
from .interfaces import IIdentityProvider
from .paging import encode_cursor
from .roles import role_table
from .security import superusers
from .services import query_service

SYSTEM = (Everyone, Authenticated)


@dataclass(frozen=True)
class WhoRule:
    """One permission on one resource, evaluated per principal.

    ``ordered``: (principal, allowed) for the first entry naming each user or
    group principal, in the order the engine meets them; ``default``: the
    decision for a user none of them names; ``superusers``: principals
    allowed whatever the entries say.
    """

    ordered: tuple[tuple[str, bool], ...]
    default: bool
    superusers: frozenset[str] = frozenset()
    deciding: tuple[dict[str, Any], ...] = field(default=(), compare=False)


def who_rule(
    acls: Sequence[ResourceAcl],
    permission: str,
    roles: Mapping[str, frozenset[str]],
    chosen: frozenset[str],
) -> WhoRule:
    """The :class:`WhoRule` of ``permission`` over the lineage ``acls``."""
    seen: set[str] = set()
    ordered: list[tuple[str, bool]] = []
    deciding: list[dict[str, Any]] = [
        {"principal": p, "decided_by": {"source": "superuser", "setting": "plinth.superusers"}}
        for p in sorted(chosen)
    ]
    default = False
    for acl in acls:
        for entry in acl.entries:
            if entry.principal in seen or not matches(entry.permission, permission, roles):
                continue
            seen.add(entry.principal)
            allowed = entry.action == Allow
            if allowed and entry.principal not in chosen:
                decided_by = {**entry.as_dict(), "role": role_name(entry.permission)}
                deciding.append({"principal": entry.principal, "decided_by": decided_by})
            if entry.principal in SYSTEM:
                # Every active user holds both: nothing after this entry decides.
                default = allowed
                return WhoRule(tuple(ordered), default, chosen, tuple(deciding))
            ordered.append((entry.principal, allowed))
        if not acl.inherit:
            break
    return WhoRule(tuple(ordered), default, chosen, tuple(deciding))


def rule_for(
    db: Session, registry: Any, resource: Any, permission: str, cache: dict[str, Any] | None = None
) -> WhoRule:
    acls = lineage_acls(resource, db, {} if cache is None else cache)
    return who_rule(acls, permission, role_table(db, registry), superusers(registry))


def allowed_users(
    db: Session, registry: Any, rule: WhoRule, after: str | None = None, limit: int | None = None
) -> list[str]:
    """Names of the active users ``rule`` allows, sorted, after ``after``."""
    provider = query_service(registry, IIdentityProvider)
    if provider is None or not hasattr(provider, "allowed_users"):
        return []
    return list(provider.allowed_users(db, rule, after, limit))


def who(
    db: Session, registry: Any, resource: Any, permission: str, after: str | None, limit: int
) -> dict[str, Any]:
    """``@@who``: a page of the users allowed ``permission`` on ``resource``."""
    rule = rule_for(db, registry, resource, permission)
    names = allowed_users(db, registry, rule, after, limit + 1)
    more = len(names) > limit
    names = names[:limit]
    return {
        "resource": path_of(resource),
        "permission": permission,
        "users": names,
        "principals": list(rule.deciding),
        "next_cursor": encode_cursor([names[-1]]) if more else None,
    }
