"""The identity provider: a bearer token becomes principals in one statement."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pyramid.authorization import Authenticated
from sqlalchemy import and_, bindparam, or_, select, update
from zope.interface import implementer

from plinth.api import (
    Identity,
    IIdentityProvider,
    IWriteEngine,
    cached,
    clock,
    security_cache,
    session_credential,
)

from . import directory
from .models import Group, Token, User, memberships
from .tokens import hash_token, looks_like_token

log = logging.getLogger(__name__)

# last_used_at is refreshed at most this often, after the response, so that a
# read stays a read (and costs one statement for the identity).
LAST_USED_GRANULARITY = timedelta(seconds=60)


def bearer_token(request: Any) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    value = value.strip()
    return value if looks_like_token(value) else None


# Built once: constructing the statement costs more than running it.  The
# expiry is checked in Python, so that a cached token still expires on time.
IDENTITY_QUERY = (
    select(Token.id, Token.last_used_at, Token.expires_at, User.name, Group.name)
    .join(User, User.id == Token.user_id)
    .outerjoin(memberships, memberships.c.user_id == User.id)
    .outerjoin(Group, Group.id == memberships.c.group_id)
    .where(
        Token.secret_hash == bindparam("secret_hash"),
        Token.revoked_at.is_(None),
        User.active.is_(True),
    )
)


@dataclass
class TokenInfo:
    """What a live token stands for, as cached per process and security version."""

    token_id: str
    username: str
    principals: frozenset[str]
    expires_at: datetime
    last_used: datetime | None  # refreshed in place when this process records a use


def load_token(db: Any, secret_hash: str) -> TokenInfo | None:
    rows = db.connection().execute(IDENTITY_QUERY, {"secret_hash": secret_hash}).all()
    if not rows:
        return None
    token_id, last_used, expires_at, username, _ = rows[0]
    principals = {f"user:{username}"} | {f"group:{g}" for *_, g in rows if g}
    return TokenInfo(token_id, username, frozenset(principals), expires_at, last_used)


@implementer(IIdentityProvider)
class TokenIdentityProvider:
    scheme = "Bearer"

    def identify(self, request: Any) -> Identity | None:
        bearer = bearer_token(request)
        secret = bearer or _session_token(request)
        if secret is None:
            return None
        now = clock.now()
        secret_hash = hash_token(secret)
        if bearer is not None:
            # Per process, for as long as no token, user or membership changes
            # (plinth.securitycache): a warm read spends no statement here.
            info = cached(
                request,
                security_cache(request.registry, "auth.tokens"),
                secret_hash,
                lambda: load_token(request.db, secret_hash),
            )
        else:
            # A session's idle timeout needs the token's last use as any
            # process recorded it, and recording a use does not bump the
            # security version: a cached copy could be stale.
            info = load_token(request.db, secret_hash)
        if info is None or info.expires_at <= now:
            return None
        last_used = info.last_used
        if last_used is None or last_used < now - LAST_USED_GRANULARITY:
            token_id = info.token_id
            info.last_used = now
            request.add_finished_callback(lambda req: _touch(req, token_id, now))
        return Identity(
            userid=f"user:{info.username}",
            principals=info.principals,
            extra={"user": info.username, "token_id": info.token_id, "last_used_at": last_used},
        )

    def expand_principal(self, db: Any, principal: str) -> list[str] | None:
        kind, _, name = principal.partition(":")
        if kind == "user":
            user = db.scalars(select(User).where(User.name == name)).first()
            if user is None:
                return None
            if not user.active:
                return [principal]
            return [Authenticated, principal, *[f"group:{g.name}" for g in user.groups]]
        if kind == "group":
            exists = db.scalars(select(Group.id).where(Group.name == name)).first()
            return [Authenticated, principal] if exists is not None else None
        return None

    def allowed_users(self, db: Any, rule: Any, after: str | None, limit: int | None) -> list[str]:
        return directory.allowed_users(db, rule, after, limit)

    def members(self, db: Any) -> Any:
        return directory.members_query()


def _session_token(request: Any) -> str | None:
    secret = session_credential(request)
    return secret if secret is not None and looks_like_token(secret) else None


def _touch(request: Any, token_id: str, moment: datetime) -> None:
    """Record the token's use in a short transaction of its own."""
    engine = request.find_service(IWriteEngine)
    try:
        with engine.begin() as connection:
            connection.execute(
                update(Token)
                .where(
                    Token.id == token_id,
                    or_(
                        Token.last_used_at.is_(None),
                        and_(Token.last_used_at < moment - LAST_USED_GRANULARITY),
                    ),
                )
                .values(last_used_at=moment)
            )
    except Exception:
        log.warning("could not record the use of token %s", token_id, exc_info=True)
