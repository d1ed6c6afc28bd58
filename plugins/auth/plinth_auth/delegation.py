"""What an ``auth.manage`` holder who is not a superuser may do to accounts.

PRODUCT.md section 5, "Safe delegation": a delegate adds users only to groups
it is in itself, and never creates, changes, disables or deletes a superuser.
Setting a password or re-enabling an account hands its rights to whoever
chose the password, so that too needs the caller to be in every group of the
user.  The CLI does not pass through here: it is the operator's break-glass
tool.
"""

from __future__ import annotations

from typing import Any

from plinth.api import APIError, api_error, effective_principals, is_superuser

from .models import User
from .services import is_superuser_account


def denied(message: str, details: dict[str, Any] | None = None) -> APIError:
    return api_error(403, "delegation_denied", message, details)


def caller_groups(request: Any) -> set[str]:
    return {p.partition(":")[2] for p in effective_principals(request) if p.startswith("group:")}


def check_account_change(
    request: Any,
    name: str,
    user: User | None,
    groups: list[str] | None = None,
    active: bool | None = None,
    password: str | None = None,
    deleting: bool = False,
) -> None:
    """Raise 403 ``delegation_denied`` unless the caller may make this change."""
    if is_superuser(request):
        return
    registry = request.registry
    current = [g.name for g in user.groups] if user is not None else []
    if is_superuser_account(registry, name, current) or (
        groups is not None and is_superuser_account(registry, name, groups)
    ):
        raise denied("only a superuser creates, changes, disables or deletes a superuser")
    if deleting:
        return
    mine = caller_groups(request)
    outside = sorted(set(groups or []) - set(current) - mine)
    if outside:
        raise denied("you may add users only to groups you are in yourself", {"groups": outside})
    takes_over = user is not None and (password is not None or (active and not user.active))
    foreign = sorted(set(current) - mine)
    if takes_over and foreign:
        raise denied(
            "setting the password of, or re-enabling, a user in groups you are not "
            "in would give you their rights",
            {"groups": foreign},
        )
