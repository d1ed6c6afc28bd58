"""Panels for users, groups and tokens.

Changes are made by the very views of ``PUT /auth/users/{name}`` and
``DELETE /auth/tokens/{id}`` (after the same permission checks), so that
every rule of the API, wherever the auth plugin keeps it, and its audit
entries apply to the console too.
"""

from __future__ import annotations

from importlib.resources import files
from typing import Any

from pyramid.request import Request
from pyramid.traversal import find_resource, find_root
from sqlalchemy import select

from plinth.api import api_error
from plinth_auth import services, views
from plinth_auth.models import Token, User
from plinth_auth.resources import GroupResource, TokensContainer, UserResource

TEMPLATES = files("plinth_admin").joinpath("templates", "panels")


def _tokens(request: Request, user: User) -> list[dict[str, Any]]:
    rows = request.db.scalars(select(Token).where(Token.user_id == user.id,
                                                  Token.revoked_at.is_(None))
                              .order_by(Token.created_at.desc()))
    return [services.token_dict(t) for t in rows if not services.token_dict(t)["expired"]]


def user_panel(context: UserResource, request: Request) -> dict[str, Any]:
    user = context.user
    return {"user": services.user_dict(user) if user is not None else None,
            "tokens": _tokens(request, user) if user is not None else [],
            "session_token": (request.identity.extra.get("token_id")
                              if request.identity is not None else None)}


def _token_resource(context: Any, request: Request) -> Any:
    token_id = request.POST.get("token", "")
    try:
        return find_resource(find_root(context), f"/auth/tokens/{token_id}")
    except KeyError:
        raise api_error(400, "invalid_request", "There is no such token.") from None


def user_post_permits(context: UserResource, request: Request) -> list[tuple[str, Any]]:
    if request.POST.get("do") == "revoke":
        return [("auth.manage", _token_resource(context, request))]
    return [("auth.manage", context)]


def user_post(context: UserResource, request: Request) -> None:
    action = request.POST.get("do")
    if context.user is None:
        raise api_error(404, "not_found", "There is no such user.")
    if action == "revoke":
        token = _token_resource(context, request)
        if token.token.user_id != context.user.id:
            raise api_error(400, "invalid_request", "That token is not this user's.")
        views.revoke_token(token, request)
    elif action in ("disable", "enable"):
        request.validated = {"active": action == "enable"}
        views.put_user(context, request)
    else:
        raise api_error(400, "invalid_request", "Unknown action.")


def group_panel(context: GroupResource, request: Request) -> dict[str, Any]:
    return {"members": sorted(u.name for u in context.group.users)}


def own_tokens_panel(context: TokensContainer, request: Request) -> dict[str, Any]:
    user = request.db.scalars(select(User).where(
        User.name == request.identity.extra.get("user"))).first()
    return {"tokens": _tokens(request, user) if user is not None else [],
            "session_token": request.identity.extra.get("token_id")}


def tokens_post_permits(context: TokensContainer, request: Request) -> list[tuple[str, Any]]:
    return [("auth.manage", _token_resource(context, request))]


def tokens_post(context: TokensContainer, request: Request) -> None:
    views.revoke_token(_token_resource(context, request), request)


def includeme(config: Any) -> None:
    config.add_admin_panel("auth.user", UserResource, user_panel,
                           str(TEMPLATES.joinpath("user.jinja2")), "Account",
                           permission="auth.manage", post=user_post,
                           post_permits=user_post_permits)
    config.add_admin_panel("auth.group", GroupResource, group_panel,
                           str(TEMPLATES.joinpath("group.jinja2")), "Members",
                           permission="auth.manage")
    config.add_admin_panel("auth.own-tokens", TokensContainer, own_tokens_panel,
                           str(TEMPLATES.joinpath("tokens.jinja2")), "Your tokens",
                           permission="auth.self", post=tokens_post,
                           post_permits=tokens_post_permits)
