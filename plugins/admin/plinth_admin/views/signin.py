"""Signing in and out of the console.

Signing in follows the auth plugin's rules for ``POST /auth/tokens``: its
login limits (per account and per client), one answer for a wrong password
and an unknown user, and the password checked outside the write transaction.
"""

from __future__ import annotations

from typing import Any

from pyramid.httpexceptions import HTTPForbidden, HTTPSeeOther
from pyramid.request import Request
from pyramid.response import Response

from plinth_auth.login import LoginRefused, check_login

from .. import session
from .common import admin_path, render
from .forms import form_post


def safe_next(request: Request, value: str | None) -> str:
    """Where to go after signing in: a console path, never another site."""
    home = admin_path(request)
    if not value or not value.startswith(home) or "//" in value or "\\" in value:
        return home
    return value


def sign_in_form(
    request: Request,
    status: int = 200,
    error: str | None = None,
    next_url: str | None = None,
    username: str = "",
) -> Response:
    return render(
        request,
        "signin.jinja2",
        {
            "title": "Sign in",
            "error": error,
            "username": username,
            "next": safe_next(request, next_url or request.path_qs),
        },
        status,
    )


MESSAGES = {
    "rate_limited": (429, "Too many failed sign-ins: try again in {wait} seconds."),
    "unavailable": (503, "Signing in is unavailable for now: try again in {wait} seconds."),
    "invalid_credentials": (401, "The username or password is wrong."),
}


def refused_form(request: Request, refused: LoginRefused, next_url: str, username: str) -> Response:
    status, message = MESSAGES[refused.reason]
    response = sign_in_form(
        request, status, message.format(wait=refused.retry_after), next_url, username
    )
    if refused.retry_after is not None:
        response.headers["Retry-After"] = str(refused.retry_after)
    return response


@form_post
def sign_in(context: Any, request: Request) -> Response:
    username = request.POST.get("username", "")
    password = request.POST.get("password", "")
    next_url = safe_next(request, request.POST.get("next"))
    try:
        user = check_login(request, username, password, "bad credentials (admin console)")
    except LoginRefused as refused:
        return refused_form(request, refused, next_url, username)
    session.sign_in(request, user)
    return HTTPSeeOther(location=next_url)


def signed_in(context: Any, request: Request) -> list[tuple[str, Any]]:
    """``permits`` of signing out: nothing beyond being signed in."""
    if request.identity is None:
        raise HTTPForbidden()
    return []


@form_post
def sign_out(context: Any, request: Request) -> Response:
    session.sign_out(request)
    return HTTPSeeOther(location=admin_path(request))
