"""Panels for users, groups and tokens.

Changes are made by the very views of ``PUT /auth/users/{name}`` and
``DELETE /auth/tokens/{id}`` (after the same permission checks, on the
user's own resource), so that every rule of the API (the password policy,
the delegation limits of ``auth.manage`` holders, the last superuser's
guard), wherever the auth plugin keeps it, and its audit entries apply to
the console too.
"""

from __future__ import annotations

from importlib.resources import files
from typing import Any

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.request import Request
from pyramid.traversal import find_resource, find_root
from sqlalchemy import select

from plinth.api import api_error, validate
from plinth_auth import schemas, services, views
from plinth_auth.models import Token, User
from plinth_auth.resources import GroupResource, TokensContainer, UserResource, UsersContainer

TEMPLATES = files("plinth_admin").joinpath("templates", "panels")


def _tokens(request: Request, user: User) -> list[dict[str, Any]]:
    rows = request.db.scalars(
        select(Token)
        .where(Token.user_id == user.id, Token.revoked_at.is_(None))
        .order_by(Token.created_at.desc())
    )
    return [services.token_dict(t) for t in rows if not services.token_dict(t)["expired"]]


def user_panel(context: UserResource, request: Request) -> dict[str, Any]:
    user = context.user
    return {
        "user": services.user_dict(user) if user is not None else None,
        "tokens": _tokens(request, user) if user is not None else [],
        "session_token": (
            request.identity.extra.get("token_id") if request.identity is not None else None
        ),
    }


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
        _put_user(context, request, {"active": action == "enable"})
    elif action == "groups":
        _put_user(context, request, {"groups": group_names(request)})
    else:
        raise api_error(400, "invalid_request", "Unknown action.")


def group_names(request: Request) -> list[str]:
    """The groups typed in a form: names separated by spaces or commas."""
    return sorted(set(request.POST.get("groups", "").replace(",", " ").split()))


def _put_user(user: UserResource, request: Request, body: dict[str, Any]) -> None:
    """``PUT /auth/users/{name}`` with ``body``, validated as the API validates it."""
    request.validated = validate(schemas.USER_PUT, body)
    views.put_user(user, request)


def _user(context: Any, name: str) -> UserResource:
    """The resource of the user ``name`` (it may not exist yet)."""
    users = find_resource(find_root(context), "/auth/users")
    return users[name]  # type: ignore[no-any-return]


def new_user_panel(context: UsersContainer, request: Request) -> dict[str, Any]:
    # Typed values come back when the form is refused (never the password).
    return {"name": request.POST.get("name", ""), "groups": request.POST.get("groups", "")}


def new_user_permits(context: UsersContainer, request: Request) -> list[tuple[str, Any]]:
    return [("auth.manage", _user(context, request.POST.get("name", "").strip()))]


def new_user_post(context: UsersContainer, request: Request) -> Any:
    name, password = request.POST.get("name", "").strip(), request.POST.get("password", "")
    if not name or not password:
        raise api_error(400, "invalid_request", "A new user needs a name and a password.")
    user = _user(context, name)
    if user.user is not None:
        raise api_error(
            409,
            "user_exists",
            f"There is already a user {user.__name__!r}: change it on its own page.",
        )
    _put_user(user, request, {"password": password, "groups": group_names(request)})
    return HTTPSeeOther(location=request.admin_path(user))


def group_post_permits(context: GroupResource, request: Request) -> list[tuple[str, Any]]:
    return [("auth.manage", _user(context, request.POST.get("member", "").strip()))]


def group_post(context: GroupResource, request: Request) -> None:
    """Add a member to the group or remove one: a change of that user's groups."""
    user = _user(context, request.POST.get("member", "").strip())
    if user.user is None:
        raise api_error(400, "invalid_request", "There is no such user.")
    groups = {g.name for g in user.user.groups}
    group = context.group.name
    action = request.POST.get("do")
    if action == "add":
        groups.add(group)
    elif action == "remove":
        groups.discard(group)
    else:
        raise api_error(400, "invalid_request", "Unknown action.")
    _put_user(user, request, {"groups": sorted(groups)})


def group_panel(context: GroupResource, request: Request) -> dict[str, Any]:
    return {"members": sorted(u.name for u in context.group.users)}


def own_tokens_panel(context: TokensContainer, request: Request) -> dict[str, Any]:
    user = request.db.scalars(
        select(User).where(User.name == request.identity.extra.get("user"))
    ).first()
    return {
        "tokens": _tokens(request, user) if user is not None else [],
        "session_token": request.identity.extra.get("token_id"),
    }


def tokens_post_permits(context: TokensContainer, request: Request) -> list[tuple[str, Any]]:
    return [("auth.manage", _token_resource(context, request))]


def tokens_post(context: TokensContainer, request: Request) -> None:
    views.revoke_token(_token_resource(context, request), request)


def includeme(config: Any) -> None:
    config.add_admin_panel(
        "auth.user",
        UserResource,
        user_panel,
        str(TEMPLATES.joinpath("user.jinja2")),
        "Account",
        permission="auth.manage",
        post=user_post,
        post_permits=user_post_permits,
    )
    config.add_admin_panel(
        "auth.group",
        GroupResource,
        group_panel,
        str(TEMPLATES.joinpath("group.jinja2")),
        "Members",
        permission="auth.manage",
        post=group_post,
        post_permits=group_post_permits,
    )
    config.add_admin_panel(
        "auth.new-user",
        UsersContainer,
        new_user_panel,
        str(TEMPLATES.joinpath("new_user.jinja2")),
        "New user",
        permission="auth.manage",
        post=new_user_post,
        post_permits=new_user_permits,
    )
    config.add_admin_panel(
        "auth.own-tokens",
        TokensContainer,
        own_tokens_panel,
        str(TEMPLATES.joinpath("tokens.jinja2")),
        "Your tokens",
        permission="auth.self",
        post=tokens_post,
        post_permits=tokens_post_permits,
    )
