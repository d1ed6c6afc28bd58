"""Views of /auth: thin wrappers over :mod:`plinth_auth.services`."""

from __future__ import annotations

from typing import Any

from pyramid.request import Request
from pyramid.response import Response
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from plinth.api import (
    ILoginLimiter,
    IReadEngine,
    LimiterUnavailable,
    api_error,
    cursor_after,
    effective_principals,
    page,
    page_limit,
    query_error,
    resource_location,
)

from . import events, schemas, services
from .delegation import check_account_change
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
    return api_error(400, code, message, {"errors": [
        {"location": "body", "field": getattr(exc, "field", None) or field,
         "message": message}]})


def issue_token(context: TokensContainer, request: Request) -> Response:
    body = request.validated
    username, password = body["username"], body["password"]
    limiter = request.find_service(ILoginLimiter)
    client = request.remote_addr or "unknown"
    try:
        wait = limiter.retry_after(username, client)
    except LimiterUnavailable:
        raise api_error(503, "unavailable",
                        "logins are unavailable for now: the rate-limit storage cannot be "
                        "reached", headers={"Retry-After": "5"}) from None
    if wait is not None:
        raise api_error(429, "rate_limited", "too many failed logins: try again later",
                        {"retry_after": wait}, headers={"Retry-After": str(wait)})
    with request.find_service(IReadEngine).connect() as reader:
        user = services.authenticate(reader, request.db, username, password)
    if user is None:
        try:
            limiter.failed(username, client)
        except LimiterUnavailable:
            # The check above passed a moment ago; the failure still answers 401.
            pass
        registry, request_id = request.registry, request.request_id
        request.add_finished_callback(lambda _request: registry.notify(events.LoginFailed(
            None, None, request_id, username=username, client=client,
            reason="bad credentials")))
        raise api_error(401, "invalid_credentials", "the username or password is wrong")
    ttl = request.registry.settings["auth.token_ttl"]
    token, secret = services.issue_token(request.db, request.registry, user, ttl,
                                         services.Actor(user.principal, request.request_id))
    response = Response(status=201, json_body={
        "token": secret, "id": token.id,
        "expires_at": token.expires_at.isoformat(),
    })
    response.location = resource_location(request, context, token.id)
    return response


def list_tokens(context: TokensContainer, request: Request) -> dict[str, Any]:
    user = request.identity.extra["user"]
    tokens = request.db.scalars(
        select(Token).join(User).where(User.name == user, Token.revoked_at.is_(None))
        .order_by(Token.created_at.desc())).all()
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
    return {"user": request.identity.extra.get("user"),
            "principals": effective_principals(request)}


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
    check_account_change(request, context.__name__, context.user, groups=body.get("groups"),
                         active=body.get("active"), password=body.get("password"))
    try:
        user, created = services.save_user(
            request.db, request.registry, context.__name__, actor(request),
            password=body.get("password"), groups=body.get("groups"),
            active=body.get("active"))
    except PasswordRejected as exc:
        raise bad_input(exc, "password") from None
    except services.AuthError as exc:
        raise auth_error(exc, exc.field or "name") from None
    return Response(status=201 if created else 200, json_body=services.user_dict(user))


def auth_error(exc: services.AuthError, field: str) -> Exception:
    if exc.code == "last_superuser":
        return api_error(409, exc.code, exc.message)
    return bad_input(exc, field)


def _flag(request: Request, name: str) -> bool | None:
    raw = request.GET.get(name)
    if raw is None:
        return None
    if raw.lower() not in ("true", "false"):
        raise query_error(name, "expected true or false", f"{name} must be true or false")
    return raw.lower() == "true"


def keep_grants(request: Request) -> bool:
    """``keep_grants=true`` keeps the ACL entries naming the user; the older
    ``remove_grants`` still works and says the opposite."""
    keep, remove = _flag(request, "keep_grants"), _flag(request, "remove_grants")
    if keep is not None and remove is not None and keep == remove:
        raise query_error("remove_grants", "contradicts keep_grants",
                          "keep_grants and remove_grants contradict each other: "
                          "send keep_grants only")
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
        .group_by(Group.name).order_by(Group.name)).all()
    return {"items": [{"name": name, "members": count} for name, count in rows]}


def get_group(context: GroupResource, request: Request) -> dict[str, Any]:
    return {"name": context.group.name,
            "members": sorted(u.name for u in context.group.users)}


def includeme(config: Any) -> None:
    add = config.add_view
    add(issue_token, context=TokensContainer, name="", request_method="POST",
        public=True, body_schema=schemas.TOKEN_REQUEST,
        idempotent=False)
    add(list_tokens, context=TokensContainer, name="", request_method="GET",
        permission="auth.self", renderer="json")
    add(revoke_token, context=TokenResource, name="", request_method="DELETE",
        permission="auth.manage")
    add(whoami, context=AuthContainer, name="whoami", request_method="GET",
        permission="auth.self", renderer="json")
    add(list_users, context=UsersContainer, name="", request_method="GET",
        permission="auth.manage", renderer="json")
    add(get_user, context=UserResource, name="", request_method="GET",
        permission="auth.manage", renderer="json")
    add(put_user, context=UserResource, name="", request_method="PUT",
        permission="auth.manage", body_schema=schemas.USER_PUT)
    add(delete_user, context=UserResource, name="", request_method="DELETE",
        permission="auth.manage")
    add(list_groups, context=GroupsContainer, name="", request_method="GET",
        permission="auth.manage", renderer="json")
    add(get_group, context=GroupResource, name="", request_method="GET",
        permission="auth.manage", renderer="json")
