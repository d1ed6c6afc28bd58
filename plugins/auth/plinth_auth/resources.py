"""/auth and below."""

from __future__ import annotations

from typing import Any

from pyramid.authorization import Allow, Authenticated
from sqlalchemy import select

from plinth.api import Resource

from .models import Group, Token, User
from .services import NAME, user_by_name


class AuthContainer(Resource):
    """``/auth``: tokens, users, groups; ``whoami`` is a view on it."""

    __default_acl__ = [(Allow, Authenticated, "auth.self")]

    def __getitem__(self, name: str) -> Resource:
        child = {"tokens": TokensContainer, "users": UsersContainer, "groups": GroupsContainer}.get(
            name
        )
        if child is None:
            raise KeyError(name)
        return child(self, name)

    def children(self, after: str | None = None, limit: int = 50) -> list[Resource]:
        names = [n for n in ("groups", "tokens", "users") if after is None or n > after]
        return [self[name] for name in names[:limit]]


class TokensContainer(Resource):
    __view_permission__ = "auth.self"

    def __getitem__(self, token_id: str) -> TokenResource:
        if len(token_id) != 32:
            raise KeyError(token_id)
        # A missing token is still a resource, guarded like somebody else's:
        # a caller who may not manage tokens gets the same 403 for both, so
        # token ids cannot be probed.
        return TokenResource(self, token_id, self.request.db.get(Token, token_id))


class TokenResource(Resource):
    def __init__(self, parent: Resource, name: str, token: Token | None):
        super().__init__(parent, name)
        self.token = token

    @property
    def __default_acl__(self) -> list[tuple[str, str, Any]]:  # type: ignore[override]
        # The owner may manage (revoke) their own token; auth.manage granted
        # anywhere above also applies.
        if self.token is None:
            return []
        return [(Allow, f"user:{self.token.user.name}", "auth.manage")]


class UsersContainer(Resource):
    __view_permission__ = "auth.manage"

    def __getitem__(self, name: str) -> UserResource:
        # A missing user is still a resource, so that PUT can create it (or
        # answer 400 for a bad name, "admin\n" say, rather than 404).
        user = user_by_name(self.request.db, name) if NAME.fullmatch(name) else None
        return UserResource(self, name, user)

    def children(self, after: str | None = None, limit: int = 50) -> list[Resource]:
        stmt = select(User).order_by(User.name).limit(limit)
        if after is not None:
            stmt = stmt.where(User.name > after)
        return [UserResource(self, user.name, user) for user in self.request.db.scalars(stmt)]


class UserResource(Resource):
    def __init__(self, parent: Resource, name: str, user: Any):
        super().__init__(parent, name)
        self.user = user


class GroupsContainer(Resource):
    __view_permission__ = "auth.manage"

    def __getitem__(self, name: str) -> GroupResource:
        group = (
            self.request.db.scalars(select(Group).where(Group.name == name)).first()
            if NAME.fullmatch(name)
            else None
        )
        if group is None:
            raise KeyError(name)
        return GroupResource(self, name, group)

    def children(self, after: str | None = None, limit: int = 50) -> list[Resource]:
        stmt = select(Group).order_by(Group.name).limit(limit)
        if after is not None:
            stmt = stmt.where(Group.name > after)
        return [GroupResource(self, group.name, group) for group in self.request.db.scalars(stmt)]


class GroupResource(Resource):
    def __init__(self, parent: Resource, name: str, group: Group):
        super().__init__(parent, name)
        self.group = group
