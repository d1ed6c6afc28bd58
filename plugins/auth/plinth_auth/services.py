"""Domain logic of users, groups and tokens; views and the CLI call these."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session, selectinload

from plinth.api import (
    clock,
    insert_missing,
    lock_for_write,
    remove_grants_of,
    superuser_among,
    superusers,
)

from . import events
from .models import Group, Token, User, memberships
from .passwords import (
    check_policy,
    dummy_hash,
    hash_password,
    needs_rehash,
    verify_password,
)
from .tokens import new_token

# Always fullmatch: "$" would let a trailing newline through ("admin\n").
NAME = re.compile(r"[A-Za-z0-9._@+-]{1,150}")


class AuthError(Exception):
    """A rule of the auth domain was broken; views map ``code`` to a status."""

    def __init__(self, code: str, message: str, field: str | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field


def check_name(name: str, what: str = "user") -> str:
    if not NAME.fullmatch(name or ""):
        raise AuthError(
            "invalid_name", f"a {what} name is 1 to 150 letters, digits or . _ @ + -", field="name"
        )
    return name


def user_by_name(db: Session, name: str) -> User | None:
    return db.scalars(
        select(User).where(User.name == name).options(selectinload(User.groups))
    ).first()


def user_dict(user: User) -> dict[str, Any]:
    return {
        "name": user.name,
        "active": user.active,
        "groups": [g.name for g in user.groups],
        "created_at": user.created_at.isoformat(),
        "updated_at": user.updated_at.isoformat(),
    }


def _groups(db: Session, names: list[str]) -> list[Group]:
    result = []
    for name in sorted(set(names)):
        check_name(name, "group")
        group = db.scalars(select(Group).where(Group.name == name)).first()
        if group is None:
            # A concurrent request may be adding the group's first member too.
            insert_missing(db, Group, {"name": name})
            group = db.scalars(select(Group).where(Group.name == name)).one()
        result.append(group)
    return result


def locked_user(db: Session, name: str) -> User | None:
    """The user ``name`` with its groups, locked until the transaction ends.

    Writers of one user queue here (PostgreSQL's row lock; SQLite's write lock
    is already held), so each reads the memberships the previous one wrote.
    """
    return db.scalars(
        select(User)
        .where(User.name == name)
        .options(selectinload(User.groups))
        .with_for_update(of=User)
        .execution_options(populate_existing=True)
    ).first()


def _create_user_once(
    db: Session, name: str, password_hash: str, active: bool, stamp: datetime
) -> tuple[User, bool]:
    """The locked user ``name`` and whether this call created it.

    When a concurrent request creates the same user first, the insert waits
    for it instead of failing on the unique name, and this request goes on to
    update the user that request created.
    """
    created = insert_missing(
        db,
        User,
        {
            "name": name,
            "password_hash": password_hash,
            "active": active,
            "created_at": stamp,
            "updated_at": stamp,
        },
    )
    user = locked_user(db, name)
    assert user is not None  # inserted by this request or by one that committed
    return user, created


@dataclass
class Actor:
    """Who is making a change, for the events (and so the audit log)."""

    name: str | None
    request_id: str | None = None


def save_user(
    db: Session,
    registry: Any,
    name: str,
    actor: Actor,
    password: str | None = None,
    groups: list[str] | None = None,
    active: bool | None = None,
) -> tuple[User, bool]:
    """Create or update a user; returns (user, created).

    A new password or a disable revokes every token of the user.
    """
    check_name(name)
    if password is not None:
        check_policy(password, name)
    # Hashed before the user's row is locked, so that concurrent writers do
    # not queue behind each other's hashing.
    password_hash = hash_password(password) if password is not None else None
    lock_for_write(db)
    user = locked_user(db, name)
    created = False
    if user is None:
        if password_hash is None:
            raise AuthError("password_required", "a new user needs a password", "password")
        user, created = _create_user_once(
            db, name, password_hash, True if active is None else active, clock.now()
        )
    if not created:
        keeps_superuser(db, registry, user, active, groups)
    stamp = clock.now()  # once the lock is held, so that later writes have later stamps
    if created:
        user.groups = _groups(db, groups or [])
        db.flush()
        registry.notify(
            events.UserCreated(db, actor.name, actor.request_id, user=name, after=user_dict(user))
        )
        if user.groups:
            registry.notify(
                events.MembershipChanged(
                    db,
                    actor.name,
                    actor.request_id,
                    user=name,
                    before=[],
                    after=[g.name for g in user.groups],
                )
            )
        return user, True
    before = user_dict(user)
    if password_hash is not None:
        user.password_hash = password_hash
    if active is not None:
        user.active = active
    if groups is not None:
        old = [g.name for g in user.groups]
        user.groups = _groups(db, groups)
        new = [g.name for g in user.groups]
        if old != new:
            registry.notify(
                events.MembershipChanged(
                    db, actor.name, actor.request_id, user=name, before=old, after=new
                )
            )
    user.updated_at = stamp
    db.flush()
    after = user_dict(user)
    if password is not None:
        after["password"] = "changed"  # noqa: S105 - the audit says that, never the value
    registry.notify(
        events.UserChanged(db, actor.name, actor.request_id, user=name, before=before, after=after)
    )
    if password is not None or active is False:
        revoke_user_tokens(db, registry, user, actor)
    return user, created


def delete_user(
    db: Session, registry: Any, user: User, actor: Actor, keep_grants: bool = False
) -> int:
    """Delete ``user`` and its tokens; also the ACL entries naming it unless
    ``keep_grants``.  Returns how many entries were removed."""
    lock_for_write(db)
    keeps_superuser(db, registry, user, deleting=True)
    before = user_dict(user)
    db.delete(user)
    db.flush()
    registry.notify(
        events.UserDeleted(db, actor.name, actor.request_id, user=user.name, before=before)
    )
    if keep_grants:
        return 0
    return remove_grants_of(db, user.principal, actor.name, actor.request_id)


def is_superuser_account(registry: Any, name: str, groups: list[str]) -> bool:
    principals = [f"user:{name}", *(f"group:{g}" for g in groups)]
    return superuser_among(registry, principals) is not None


def keeps_superuser(
    db: Session,
    registry: Any,
    user: User,
    active: bool | None = None,
    groups: list[str] | None = None,
    deleting: bool = False,
) -> None:
    """Refuse (``last_superuser``) a change that leaves no active superuser.

    The superusers' rows are locked first, in id order, and counted by a later
    statement: on PostgreSQL that statement sees what a concurrent change
    committed while we waited, so two requests cannot each remove "the other"
    last superuser.
    """
    chosen = superusers(registry)
    current = [g.name for g in user.groups]
    if not chosen or not user.active or not is_superuser_account(registry, user.name, current):
        return
    stays = (
        not deleting
        and active is not False
        and is_superuser_account(registry, user.name, current if groups is None else groups)
    )
    if stays:
        return
    names = [p.partition(":")[2] for p in chosen if p.startswith("user:")]
    group_names = [p.partition(":")[2] for p in chosen if p.startswith("group:")]
    in_groups = (
        select(memberships.c.user_id)
        .join(Group, Group.id == memberships.c.group_id)
        .where(Group.name.in_(group_names))
    )
    is_one = or_(User.name.in_(names), User.id.in_(in_groups))
    db.execute(
        select(User.id).where(or_(is_one, User.id == user.id)).order_by(User.id).with_for_update()
    ).all()
    others = db.scalar(
        select(func.count())
        .select_from(User)
        .where(is_one, User.active.is_(True), User.id != user.id)
    )
    if not others:
        raise AuthError(
            "last_superuser", f"{user.name} is the last active superuser: make another one first"
        )


def revoke_user_tokens(db: Session, registry: Any, user: User, actor: Actor) -> int:
    """Revoke every live token of ``user`` (a new password, a disable)."""
    ids = list(
        db.scalars(select(Token.id).where(Token.user_id == user.id, Token.revoked_at.is_(None)))
    )
    if not ids:
        return 0
    db.execute(
        update(Token)
        .where(Token.id.in_(ids), Token.revoked_at.is_(None))
        .values(revoked_at=clock.now())
    )
    for token_id in ids:
        registry.notify(
            events.TokenRevoked(db, actor.name, actor.request_id, user=user.name, token_id=token_id)
        )
    return len(ids)


def authenticate(reader: Any, db: Session, username: str, password: str) -> User | None:
    """The active user with these credentials (from ``db``), or None.

    The password is checked on ``reader``, a connection outside the request's
    transaction, so that the slow hash verification never runs while that
    transaction holds a lock (on SQLite, the database's write lock).  An
    unknown user costs one verification too, so that timing does not tell
    whether the name exists.  A hash made with weaker parameters than today's
    is upgraded.
    """
    row = (
        reader.execute(
            select(User.id, User.password_hash, User.active).where(User.name == username)
        ).first()
        if NAME.fullmatch(username)
        else None
    )
    if row is None:
        verify_password(dummy_hash(), password)
        return None
    if not verify_password(row.password_hash, password) or not row.active:
        return None
    user = db.get(User, row.id)
    if user is None:  # deleted in the meantime
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def issue_token(
    db: Session, registry: Any, user: User, ttl_seconds: int, actor: Actor
) -> tuple[Token, str]:
    token_id, secret, secret_hash = new_token()
    stamp = clock.now()
    token = Token(
        id=token_id,
        user_id=user.id,
        secret_hash=secret_hash,
        created_at=stamp,
        expires_at=stamp + timedelta(seconds=ttl_seconds),
    )
    db.add(token)
    db.flush()
    registry.notify(
        events.TokenIssued(
            db, actor.name or user.principal, actor.request_id, user=user.name, token_id=token_id
        )
    )
    return token, secret


def token_dict(token: Token) -> dict[str, Any]:
    return {
        "id": token.id,
        "created_at": token.created_at.isoformat(),
        "expires_at": token.expires_at.isoformat(),
        "last_used_at": token.last_used_at.isoformat() if token.last_used_at else None,
        "revoked": token.revoked_at is not None,
        "expired": token.expires_at <= clock.now(),
    }


def revoke_token(db: Session, registry: Any, token: Token, actor: Actor) -> bool:
    """Revoke ``token``; False if it already was."""
    result = db.execute(
        update(Token)
        .where(Token.id == token.id, Token.revoked_at.is_(None))
        .values(revoked_at=clock.now())
    )
    if result.rowcount == 0:  # type: ignore[attr-defined]
        return False
    owner = db.get(User, token.user_id)
    registry.notify(
        events.TokenRevoked(
            db, actor.name, actor.request_id, user=owner.name if owner else "", token_id=token.id
        )
    )
    return True
