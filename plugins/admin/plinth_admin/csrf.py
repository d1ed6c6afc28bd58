"""CSRF tokens: every console form carries one, and a POST without it is 403.

Signed in, the token is derived from the session secret (an attacker cannot
compute it without the cookie); signed out (the sign-in form), it is a
random value doubled in a cookie of its own.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any

from pyramid.httpexceptions import HTTPForbidden
from pyramid.request import Request

from plinth.api import session_credential

from .session import PATH

CSRF_COOKIE = "plinth_admin_csrf"
CSRF_FIELD = "csrf_token"


def csrf_token(request: Request) -> str:
    """The token every admin form carries."""
    secret = session_credential(request)
    if secret is not None and request.identity is not None:
        return hmac.new(secret.encode(), b"plinth-admin-csrf", hashlib.sha256).hexdigest()
    token = request.cookies.get(CSRF_COOKIE) or request.environ.get("plinth_admin.csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        request.environ["plinth_admin.csrf"] = token
    return str(token)


def set_csrf_cookie(request: Request, response: Any) -> None:
    fresh = request.environ.get("plinth_admin.csrf")
    if fresh:
        response.set_cookie(
            CSRF_COOKIE,
            fresh,
            path=request.script_name + PATH,
            httponly=True,
            samesite="Lax",
            secure=request.scheme == "https",
        )


def check_csrf(request: Request) -> None:
    """403 for a POST without the right token (compared in constant time)."""
    sent = request.POST.get(CSRF_FIELD, "")
    secret = session_credential(request)
    if secret is not None and request.identity is not None:
        expected = csrf_token(request)
    else:
        expected = request.cookies.get(CSRF_COOKIE, "")
    if not sent or not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
        raise HTTPForbidden(detail="csrf")
