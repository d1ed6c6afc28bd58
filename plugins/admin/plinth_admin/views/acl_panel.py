"""The ACL panel of a resource page: stored, default and inherited entries,
"why may X do Y here" and "who may do Y here".

It shows to viewers holding ``acl.view`` on the resource, as ``GET @@acl``
and ``@@permissions`` do; naming users (who may) needs ``acl.view`` on the
root as well, as ``@@who`` does.
"""

from __future__ import annotations

from typing import Any

from pyramid.request import Request

from plinth.api import ALL, ROLE_PREFIX, acladmin, registered_permissions, roles, whocan

from .common import admin_path

WHO_PAGE = 50


def acl_panel(request: Request, context: Any) -> dict[str, Any] | None:
    if not request.has_permission("acl.view", context):
        return None
    acl = acladmin.describe(request.db, context)
    permissions = [ALL, *registered_permissions(request.registry)]
    explanation = None
    principal = request.GET.get("principal", "").strip()
    permission = request.GET.get("permission", "").strip() or None
    error = None
    if principal:
        if permission is not None and permission not in permissions[1:]:
            error = f"Unknown permission {permission!r}."
        else:
            principals = acladmin.expand(request.db, request.registry, principal)
            if principals is None:
                error = f"No such principal {principal!r}."
            else:
                explanation = {
                    "principal": principal,
                    "principals": principals,
                    "permissions": acladmin.explain(
                        request.db, request.registry, context, principals, permission
                    ),
                }
    who, who_error = who_may(request, context, permissions[1:])
    grantable = [
        *permissions,
        *(f"{ROLE_PREFIX}{role.name}" for role in roles.all_roles(request.db, request.registry)),
    ]
    return {
        "acl": acl,
        "permissions": permissions,
        "grantable": grantable,
        "can_manage": bool(request.has_permission("acl.manage", context)),
        "explanation": explanation,
        "explain_error": error,
        "principal": principal,
        "permission": permission or "",
        "who": who,
        "who_error": who_error,
        "who_permission": request.GET.get("who", ""),
    }


def who_may(
    request: Request, context: Any, permissions: list[str]
) -> tuple[dict[str, Any] | None, str | None]:
    """ "Who may do Y here": a page of ``@@who``'s answer, under its rules
    (naming users tells who is in which group: ``acl.view`` on the root)."""
    permission = request.GET.get("who", "").strip()
    if not permission:
        return None, None
    if permission not in permissions:
        return None, f"Unknown permission {permission!r}."
    if not request.has_permission("acl.view", request.root):
        return None, "Listing users needs acl.view on the root."
    after = request.GET.get("who_after") or None
    result = whocan.who(request.db, request.registry, context, permission, after, WHO_PAGE)
    users = result["users"]
    result["next"] = (
        admin_path(request, context, who=permission, who_after=users[-1]) + "#who"
        if result["next_cursor"]
        else None
    )
    return result, None
