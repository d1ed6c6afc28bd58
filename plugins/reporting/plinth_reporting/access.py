"""The ``access-review`` report: who holds what where, expanded to users.

One row per stored ACL entry and user holding its principal (a group's
members, every user for ``system.Authenticated``), so that a reviewer reads
"user U holds P (or role R, which grants ...) at resource X through principal
Q".  An entry naming nobody (a group without members) still shows, with no
user.  The list of users is the identity provider's
(:meth:`plinth.interfaces.IIdentityProvider.members`); without one, entries
are listed unexpanded.

It tells who is in which group, so a grant of ``reports.view`` on
``/reports`` does not reach it: its code default denies everybody, and only
an entry on ``/reports/access-review`` itself (or a superuser) opens it.
"""

from __future__ import annotations

from typing import Any

from pyramid.authorization import Deny, Everyone
from sqlalchemy import case, literal, null, select

from plinth.api import (
    ROLE_PREFIX,
    AclEntry,
    IIdentityProvider,
    declared_roles,
    query_service,
    stored_roles,
)

entries = AclEntry.__table__

RESOURCE = {
    "name": "resource",
    "type": "string",
    "minLength": 1,
    "maxLength": 512,
    "description": "only this resource and those below it",
}
PRINCIPAL = {
    "name": "principal",
    "type": "string",
    "minLength": 1,
    "maxLength": 200,
    "description": "only entries naming this principal",
}


def review_query(registry: Any) -> Any:
    def query(db: Any, params: dict[str, Any]) -> Any:
        roles = {**stored_roles(db), **declared_roles(registry)}
        grants: Any = entries.c.permission
        if roles:
            grants = case(
                {
                    ROLE_PREFIX + name: " ".join(sorted(role.permissions))
                    for name, role in roles.items()
                },
                value=entries.c.permission,
                else_=entries.c.permission,
            )
        provider = query_service(registry, IIdentityProvider)
        members = (
            provider.members(db) if provider is not None and hasattr(provider, "members") else None
        )
        source: Any = entries
        user: Any = null()
        if members is not None:
            source = entries.outerjoin(members, members.c.principal == entries.c.principal)
            user = members.c.user
        stmt = (
            select(
                entries.c.path.label("resource"),
                entries.c.position,
                entries.c.action,
                entries.c.principal,
                entries.c.permission,
                grants.label("grants"),
                user.label("user"),
            )
            .select_from(source)
            .order_by(entries.c.path, entries.c.position, user)
        )
        if params.get("resource"):
            prefix = params["resource"].rstrip("/")
            stmt = stmt.where(
                (entries.c.path == (prefix or "/"))
                | entries.c.path.startswith(prefix + "/", autoescape=True)
            )
        if params.get("principal"):
            stmt = stmt.where(entries.c.principal == literal(params["principal"]))
        return stmt

    return query


def includeme(config: Any) -> None:
    config.add_report(
        "access-review",
        review_query(config.registry),
        title="Access review",
        description="Per resource with stored entries: who holds which permission or "
        "role, through which principal, expanded to users",
        columns=[
            ("resource", "string"),
            ("position", "integer"),
            ("action", "string"),
            ("principal", "string"),
            ("permission", "string"),
            {
                "name": "grants",
                "type": "string",
                "description": "the permissions the entry grants (a role's, spelt out)",
            },
            {
                "name": "user",
                "type": "string",
                "description": "an active user holding the principal",
            },
        ],
        parameters=[RESOURCE, PRINCIPAL],
        default_acl=[(Deny, Everyone, "reports.view")],
    )
