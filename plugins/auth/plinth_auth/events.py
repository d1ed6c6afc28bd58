"""Events the auth plugin notifies (the audit log subscribes to them).

Each carries the request's database session, so that a subscriber writes in
the same transaction as the change it records.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class AuthEvent:
    db: Any
    actor: str | None
    request_id: str | None = None

    kind = "auth.event"


@dataclass
class UserCreated(AuthEvent):
    user: str = ""
    after: dict[str, Any] = field(default_factory=dict)
    kind = "user.created"


@dataclass
class UserChanged(AuthEvent):
    user: str = ""
    before: dict[str, Any] = field(default_factory=dict)
    after: dict[str, Any] = field(default_factory=dict)
    kind = "user.changed"


@dataclass
class UserDeleted(AuthEvent):
    user: str = ""
    before: dict[str, Any] = field(default_factory=dict)
    kind = "user.deleted"


@dataclass
class MembershipChanged(AuthEvent):
    user: str = ""
    before: list[str] = field(default_factory=list)
    after: list[str] = field(default_factory=list)
    kind = "membership.changed"


@dataclass
class TokenIssued(AuthEvent):
    user: str = ""
    token_id: str = ""
    kind = "token.issued"


@dataclass
class TokenRevoked(AuthEvent):
    user: str = ""
    token_id: str = ""
    kind = "token.revoked"


@dataclass
class LoginFailed(AuthEvent):
    """Notified after the failed request's transaction ended (``db`` is None):
    that transaction rolls back, so a subscriber writes in one of its own."""

    username: str = ""
    client: str = ""
    reason: str = ""
    kind = "login.failed"
