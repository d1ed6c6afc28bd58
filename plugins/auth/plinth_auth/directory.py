"""Users as sets: who a :class:`plinth.whocan.WhoRule` allows, in one statement.

The rule is a short ordered list of user and group principals with their
decision; each user's decision is that of the earliest of them it holds.  The
database computes, per user, the earliest position among its own principal and
its groups' (``MIN`` over its memberships), so that 100,000 users cost one
indexed statement, not one evaluation each.
"""

from __future__ import annotations

from typing import Any

from pyramid.authorization import Authenticated, Everyone
from sqlalchemy import and_, case, false, func, literal, null, or_, select, true, union_all

from .models import Group, User, memberships

users = User.__table__
groups = Group.__table__


def _positions(rule: Any, kind: str) -> dict[str, int]:
    found: dict[str, int] = {}
    for index, (principal, _) in enumerate(rule.ordered):
        prefix, _, name = principal.partition(":")
        if prefix == kind:
            found.setdefault(name, index)
    return found


def allowed_users_query(rule: Any, after: str | None, limit: int | None) -> Any:
    by_user, by_group = _positions(rule, "user"), _positions(rule, "group")
    allowing = [i for i, (_, allowed) in enumerate(rule.ordered) if allowed]
    user_position: Any = case(by_user, value=users.c.name) if by_user else null()
    source = users
    group_position: Any = null()
    if by_group:
        earliest = (
            select(memberships.c.user_id, case(by_group, value=groups.c.name).label("position"))
            .join(groups, groups.c.id == memberships.c.group_id)
            .where(groups.c.name.in_(list(by_group)))
            .subquery()
        )
        first_group = (
            select(earliest.c.user_id, func.min(earliest.c.position).label("position"))
            .group_by(earliest.c.user_id)
            .subquery()
        )
        source = users.outerjoin(first_group, first_group.c.user_id == users.c.id)
        group_position = first_group.c.position
    first: Any
    if by_user and by_group:
        first = case(
            (group_position.is_(None), user_position),
            (user_position.is_(None), group_position),
            (user_position < group_position, user_position),
            else_=group_position,
        )
    else:
        first = user_position if by_user else group_position
    allowed = or_(
        first.in_(allowing) if allowing else false(),
        and_(first.is_(None), true() if rule.default else false())
        if (by_user or by_group)
        else (true() if rule.default else false()),
    )
    chosen_users = [p.partition(":")[2] for p in rule.superusers if p.startswith("user:")]
    chosen_groups = [p.partition(":")[2] for p in rule.superusers if p.startswith("group:")]
    superuser = or_(
        users.c.name.in_(chosen_users) if chosen_users else false(),
        users.c.id.in_(
            select(memberships.c.user_id)
            .join(groups, groups.c.id == memberships.c.group_id)
            .where(groups.c.name.in_(chosen_groups))
        )
        if chosen_groups
        else false(),
    )
    stmt = (
        select(users.c.name)
        .select_from(source)
        .where(users.c.active.is_(True), or_(superuser, allowed))
        .order_by(users.c.name)
    )
    if after is not None:
        stmt = stmt.where(users.c.name > after)
    if limit is not None:
        stmt = stmt.limit(limit)
    return stmt


def allowed_users(db: Any, rule: Any, after: str | None, limit: int | None) -> list[str]:
    return list(db.connection().execute(allowed_users_query(rule, after, limit)).scalars())


def members_query() -> Any:
    """(principal, user) pairs: every active user's own, group and system principals."""
    own = select(
        (literal("user:") + users.c.name).label("principal"), users.c.name.label("user")
    ).where(users.c.active.is_(True))
    grouped = (
        select((literal("group:") + groups.c.name).label("principal"), users.c.name.label("user"))
        .select_from(
            memberships.join(groups, groups.c.id == memberships.c.group_id).join(
                users, users.c.id == memberships.c.user_id
            )
        )
        .where(users.c.active.is_(True))
    )
    everyone = [
        select(literal(system).label("principal"), users.c.name.label("user")).where(
            users.c.active.is_(True)
        )
        for system in (Everyone, Authenticated)
    ]
    return union_all(own, grouped, *everyone).subquery("members")
