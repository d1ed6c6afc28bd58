"""Views of /auth: thin wrappers over :mod:`plinth_auth.services`."""

from __future__ import annotations

from typing import Any

from pyramid.request import Request
from pyramid.response import Response
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from plinth.api import (
    PAGING,
    QueryParameter,
    api_error,
    cursor_after,
    effective_principals,
    error_response,
    json_response,
    page,
    page_limit,
    query_error,
    resource_location,
)

from . import schemas, services
from .delegation import check_account_change
from .login import LoginRefused, check_login
from .models import Group, Token, User, memberships
from .passwords import PasswordRejected
from .resources import (
    AuthContainer,
    GroupResource,
    GroupsContainer,
    TokenResource,
    TokensContainer,
    UserResource,
    UsersContainer,
)


def actor(request: Request) -> services.Actor:
    return services.Actor(request.authenticated_userid, request.request_id)


def bad_input(exc: services.AuthError | PasswordRejected, field: str) -> Exception:
    code = getattr(exc, "code", "weak_password")
    message = getattr(exc, "message", str(exc))
    return api_error(
        400,
        code,
        message,
        {
            "errors": [
                {
                    "location": "body",
                    "field": getattr(exc, "field", None) or field,
                    "message": message,
                }
            ]
        },
    )


def login_error(refused: LoginRefused) -> Exception:
    if refused.reason == "unavailable":
        return api_error(
            503,
            "unavailable",
            "logins are unavailable for now: the rate-limit storage cannot be reached",
            headers={"Retry-After": str(refused.retry_after)},
        )
    if refused.reason == "rate_limited":
        return api_error(
            429,
            "rate_limited",
            "too many failed logins: try again later",
            {"retry_after": refused.retry_after},
            headers={"Retry-After": str(refused.retry_after)},
        )
    return api_error(401, "invalid_credentials", "the username or password is wrong")


def issue_token(context: TokensContainer, request: Request) -> Response:
    body = request.validated
    try:
        user = check_login(request, body["username"], body["password"], "bad credentials")
    except LoginRefused as refused:
        raise login_error(refused) from None
    ttl = request.registry.settings["auth.token_ttl"]
    token, secret = services.issue_token(
        request.db, request.registry, user, ttl, services.Actor(user.principal, request.request_id)
    )
    response = Response(
        status=201,
        json_body={
            "token": secret,
            "id": token.id,
            "expires_at": token.expires_at.isoformat(),
        },
    )
    response.location = resource_location(request, context, token.id)
    return response


def list_tokens(context: TokensContainer, request: Request) -> dict[str, Any]:
    user = request.identity.extra["user"]
    tokens = request.db.scalars(
        select(Token)
        .join(User)
        .where(User.name == user, Token.revoked_at.is_(None))
        .order_by(Token.created_at.desc())
    ).all()
    return {"items": [services.token_dict(t) for t in tokens]}


def revoke_token(context: TokenResource, request: Request) -> Response:
    if context.token is None:
        raise api_error(404, "not_found", f"no token {context.__name__!r}")
    owner = context.token.user
    if owner.principal != request.authenticated_userid:
        check_account_change(request, owner.name, owner, deleting=True)
    services.revoke_token(request.db, request.registry, context.token, actor(request))
    return Response(status=204)


def whoami(context: AuthContainer, request: Request) -> dict[str, Any]:
    return {"user": request.identity.extra.get("user"), "principals": effective_principals(request)}


def list_users(context: UsersContainer, request: Request) -> dict[str, Any]:
    limit = page_limit(request)
    after = cursor_after(request, str)
    stmt = select(User).options(selectinload(User.groups)).order_by(User.name).limit(limit + 1)
    if after is not None:
        stmt = stmt.where(User.name > after)
    return page(list(request.db.scalars(stmt)), limit, lambda u: u.name, services.user_dict)


def _existing(context: UserResource) -> User:
    if context.user is None:
        raise api_error(404, "not_found", f"no user {context.__name__!r}")
    return context.user


def get_user(context: UserResource, request: Request) -> dict[str, Any]:
    return services.user_dict(_existing(context))


def put_user(context: UserResource, request: Request) -> Response:
    body = request.validated
    check_account_change(
        request,
        context.__name__,
        context.user,
        groups=body.get("groups"),
        active=body.get("active"),
        password=body.get("password"),
    )
    try:
        user, created = services.save_user(
            request.db,
            request.registry,
            context.__name__,
            actor(request),
            password=body.get("password"),
            groups=body.get("groups"),
            active=body.get("active"),
        )
    except PasswordRejected as exc:
        raise bad_input(exc, "password") from None
    except services.AuthError as exc:
        raise auth_error(exc, exc.field or "name") from None
    return Response(status=201 if created else 200, json_body=services.user_dict(user))


def auth_error(exc: services.AuthError, field: str) -> Exception:
    if exc.code == "last_superuser":
        return api_error(409, exc.code, exc.message)
    return bad_input(exc, field)


GRANT_FLAGS = ("keep_grants", "remove_grants")


def keep_grants(request: Request) -> bool:
    """``keep_grants=true`` keeps the ACL entries naming the user; the older
    ``remove_grants`` still works and says the opposite."""
    keep, remove = (request.query[flag] for flag in GRANT_FLAGS)
    if keep is not None and remove is not None and keep == remove:
        raise query_error(
            "remove_grants",
            "contradicts keep_grants",
            "keep_grants and remove_grants contradict each other: send keep_grants only",
        )
    if keep is not None:
        return keep
    return remove is False


def delete_user(context: UserResource, request: Request) -> Response:
    user = _existing(context)
    keep = keep_grants(request)
    check_account_change(request, context.__name__, user, deleting=True)
    try:
        services.delete_user(request.db, request.registry, user, actor(request), keep)
    except services.AuthError as exc:
        raise auth_error(exc, "name") from None
    return Response(status=204)


def list_groups(context: GroupsContainer, request: Request) -> dict[str, Any]:
    rows = request.db.execute(
        select(Group.name, func.count(memberships.c.user_id))
        .outerjoin(memberships, memberships.c.group_id == Group.id)
        .group_by(Group.name)
        .order_by(Group.name)
    ).all()
    return {"items": [{"name": name, "members": count} for name, count in rows]}


def get_group(context: GroupResource, request: Request) -> dict[str, Any]:
    return {"name": context.group.name, "members": sorted(u.name for u in context.group.users)}


USER_NAME = {"name": "name", "in": "path", "required": True, "schema": schemas.NAME}


def includeme(config: Any) -> None:
    add = config.add_endpoint
    tags = ["auth"]
    add(
        issue_token,
        "/auth/tokens",
        "POST",
        context=TokensContainer,
        name="",
        public=True,
        body_schema=schemas.TOKEN_REQUEST,
        idempotent=False,
        summary="Issue an API token for a username and password (public)",
        tags=tags,
        responses={
            "201": json_response("the token; keep it secret", schemas.TOKEN_ISSUED),
            "503": error_response(
                "the login rate-limit storage is down and auth.ratelimit_failure is closed"
            ),
        },
    )
    add(
        list_tokens,
        "/auth/tokens",
        "GET",
        context=TokensContainer,
        name="",
        permission="auth.self",
        summary="Your live tokens (never their secrets)",
        tags=tags,
        responses={"200": json_response("tokens")},
    )
    add(
        revoke_token,
        "/auth/tokens/{id}",
        "DELETE",
        context=TokenResource,
        name="",
        permission="auth.manage",
        renderer=None,
        summary="Revoke a token (its owner or auth.manage)",
        tags=tags,
        responses={"204": {"description": "revoked"}},
    )
    add(
        whoami,
        "/auth/whoami",
        "GET",
        context=AuthContainer,
        name="whoami",
        permission="auth.self",
        summary="Who you are and the principals you hold",
        tags=tags,
        responses={"200": json_response("you", schemas.WHOAMI)},
    )
    add(
        list_users,
        "/auth/users",
        "GET",
        context=UsersContainer,
        name="",
        permission="auth.manage",
        query=PAGING,
        summary="Users, by name (auth.manage)",
        tags=tags,
        responses={"200": json_response("a page of users")},
    )
    add(
        get_user,
        "/auth/users/{name}",
        "GET",
        context=UserResource,
        name="",
        permission="auth.manage",
        parameters=[USER_NAME],
        summary="A user (auth.manage)",
        tags=tags,
        responses={"200": json_response("the user", schemas.USER)},
    )
    add(
        put_user,
        "/auth/users/{name}",
        "PUT",
        context=UserResource,
        name="",
        permission="auth.manage",
        parameters=[USER_NAME],
        body_schema=schemas.USER_PUT,
        renderer=None,
        summary="Create or update a user (auth.manage)",
        tags=tags,
        responses={
            "200": json_response("updated", schemas.USER),
            "201": json_response("created", schemas.USER),
            "403": json_response("delegation_denied: beyond the caller's groups, or a superuser"),
            "409": json_response("last_superuser"),
        },
    )
    add(
        delete_user,
        "/auth/users/{name}",
        "DELETE",
        context=UserResource,
        name="",
        permission="auth.manage",
        parameters=[USER_NAME],
        renderer=None,
        query=[QueryParameter(flag, {"type": "boolean"}) for flag in GRANT_FLAGS],
        summary="Delete a user (auth.manage) and the ACL entries naming it, unless "
        "keep_grants=true (remove_grants=false, the older spelling, too)",
        tags=tags,
        responses={
            "204": {"description": "deleted"},
            "403": json_response("delegation_denied: a superuser"),
            "409": json_response("last_superuser"),
        },
    )
    add(
        list_groups,
        "/auth/groups",
        "GET",
        context=GroupsContainer,
        name="",
        permission="auth.manage",
        summary="Groups with their member counts (auth.manage)",
        tags=tags,
        responses={"200": json_response("groups")},
    )
    add(
        get_group,
        "/auth/groups/{name}",
        "GET",
        context=GroupResource,
        name="",
        permission="auth.manage",
        parameters=[USER_NAME],
        summary="A group and its members (auth.manage)",
        tags=tags,
        responses={"200": json_response("the group")},
    )
