"""Admin sessions: a cookie that carries an auth token, for /admin/ only.

Signing in issues a normal auth token (through the auth plugin's service) and
the session cookie carries its secret.  Revoking the token, and whatever
revokes a user's tokens (a password change, a disable), therefore ends the
session on every process, with no session store of our own.  The cookie is
read by the admin route's root factory alone and handed to the identity
provider with :func:`plinth.security.use_session_credential`: the JSON API
never accepts it, so that a cross-site request cannot act on the API.

A session ends when it has been idle longer than
``admin.session_idle_timeout``: the token's last use (recorded once a
minute by the auth plugin) tells, and the idle token is revoked.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from pyramid.request import Request
from sqlalchemy.orm import Session

from plinth.api import (
    IWriteEngine,
    Root,
    clock,
    root_factory,
    session_credential,
    use_session_credential,
)
from plinth_auth import services
from plinth_auth.models import Token

COOKIE = "plinth_admin"
PATH = "/admin"


def admin_root(request: Request) -> Root:
    """Root factory of the admin route: the real tree, with the cookie's identity."""
    secret = request.cookies.get(COOKIE)
    if secret and "Authorization" not in request.headers:
        use_session_credential(request, secret)
        identity = request.identity
        if identity is None:
            forget(request)  # revoked, expired or disabled: the cookie is of no use
        elif "token_id" in identity.extra and _idle(request, identity):
            _revoke(request, identity.extra["token_id"], "idle")
            use_session_credential(request, None)
            forget(request)
            request.environ["plinth_admin.expired"] = True
    return root_factory(request)


def _idle(request: Request, identity: Any) -> bool:
    last_used = identity.extra.get("last_used_at")
    if last_used is None:
        return False  # set at sign-in; None only for tokens never used at all
    timeout = request.registry.settings["admin.session_idle_timeout"]
    return bool(clock.now() - last_used > timedelta(seconds=timeout))


def _revoke(request: Request, token_id: str, why: str) -> None:
    """Revoke in a short transaction of its own: a GET's session only reads."""
    with Session(request.find_service(IWriteEngine)) as db, db.begin():
        token = db.get(Token, token_id)
        if token is not None:
            services.revoke_token(
                db,
                request.registry,
                token,
                services.Actor(f"admin-session:{why}", request.request_id),
            )


def sign_in(request: Request, user: Any) -> None:
    """Issue a token for ``user`` and set the session cookie to carry it.

    A session this browser already had ends: its token is revoked.
    """
    sign_out(request)
    ttl = request.registry.settings["auth.token_ttl"]
    token, secret = services.issue_token(
        request.db, request.registry, user, ttl, services.Actor(user.principal, request.request_id)
    )
    # Counts as use, so that the idle clock starts now.
    token.last_used_at = token.created_at
    use_session_credential(request, secret)
    request.response_cookie = (COOKIE, secret, ttl)


def sign_out(request: Request) -> None:
    identity = request.identity
    if identity is not None and session_credential(request) is not None:
        token = request.db.get(Token, identity.extra["token_id"])
        if token is not None:
            services.revoke_token(
                request.db,
                request.registry,
                token,
                services.Actor(identity.userid, request.request_id),
            )
    forget(request)


def forget(request: Request) -> None:
    request.response_cookie = (COOKIE, None, 0)


def apply_cookie(request: Request, response: Any) -> None:
    """Set or delete the session cookie as the request decided."""
    pending = getattr(request, "response_cookie", None)
    if pending is None:
        return
    name, value, max_age = pending
    path = request.script_name + PATH
    if value is None:
        response.delete_cookie(name, path=path)
        return
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=path,
        httponly=True,
        samesite="Lax",
        secure=request.scheme == "https",
    )
