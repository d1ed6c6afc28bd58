"""Access management over HTTP: ``/@@roles`` and ``<path>/@@who``.

Declared with their OpenAPI operations in :mod:`plinth.coreapi`.
"""

from __future__ import annotations

from typing import Any

from pyramid.httpexceptions import HTTPNoContent
from pyramid.request import Request
from pyramid.response import Response

from . import roles, whocan
from .acl import registered_permissions
from .errors import api_error
from .paging import cursor_after, page_limit
from .queryparams import query_error
from .security import is_superuser

ROLE_DOC = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "title": {"type": "string"},
        "permissions": {"type": "array", "items": {"type": "string"}},
        "source": {"type": "string", "enum": ["declared", "stored"]},
    },
}
WHO_DOC = {
    "type": "object",
    "properties": {
        "resource": {"type": "string"},
        "permission": {"type": "string"},
        "users": {"type": "array", "items": {"type": "string"}},
        "principals": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"principal": {"type": "string"}, "decided_by": {"type": "object"}},
            },
        },
        "next_cursor": {"type": ["string", "null"]},
    },
}


def roles_list(request: Request) -> dict[str, Any]:
    return {"items": [r.as_dict() for r in roles.all_roles(request.db, request.registry)]}


def _superuser_only(request: Request) -> None:
    # Roles are granted everywhere: changing one changes what every entry
    # naming it grants, so only superusers may.
    if not is_superuser(request):
        raise api_error(403, "forbidden", "only superusers change roles")


def role_put(request: Request) -> Response:
    _superuser_only(request)
    body = request.validated
    role, created = roles.save_role(
        request.db,
        request.registry,
        request.matchdict["name"],
        body["permissions"],
        body.get("title"),
        request.authenticated_userid,
        request.request_id,
    )
    response = Response(json_body=role.as_dict())
    response.status_int = 201 if created else 200
    return response


def role_delete(request: Request) -> Response:
    _superuser_only(request)
    roles.delete_role(
        request.db,
        request.registry,
        request.matchdict["name"],
        request.authenticated_userid,
        request.request_id,
    )
    return HTTPNoContent()


def who_view(context: Any, request: Request) -> dict[str, Any]:
    """Users allowed a permission here.

    Naming users is telling who is in which group: like ``@@permissions``
    about another user, it needs ``acl.view`` on the root (or a superuser),
    on top of ``acl.view`` here that the view itself requires.
    """
    permission = request.query["permission"]
    if permission not in registered_permissions(request.registry):
        raise query_error("permission", "unknown permission", f"unknown permission {permission!r}")
    if not request.has_permission("acl.view", request.root):
        raise api_error(
            403, "forbidden", "listing users needs acl.view on the root", {"permission": "acl.view"}
        )
    limit = page_limit(request)
    after = cursor_after(request, str)
    return whocan.who(request.db, request.registry, context, permission, after, limit)


def includeme(config: Any) -> None:
    config.add_route("plinth.roles", "/@@roles")
    config.add_route("plinth.role", "/@@roles/{name}")
