"""Access management over HTTP: ``/@@roles`` and ``<path>/@@who``."""

from __future__ import annotations

from typing import Any

from pyramid.httpexceptions import HTTPNoContent
from pyramid.request import Request
from pyramid.response import Response

from . import roles, whocan
from .acl import registered_permissions
from .errors import api_error
from .openapi import json_body, json_response
from .paging import cursor_after, page_limit
from .queryparams import query_error
from .security import is_superuser

ROLE_DOC = {"type": "object", "properties": {
    "name": {"type": "string"}, "title": {"type": "string"},
    "permissions": {"type": "array", "items": {"type": "string"}},
    "source": {"type": "string", "enum": ["declared", "stored"]}}}
WHO_DOC = {"type": "object", "properties": {
    "resource": {"type": "string"}, "permission": {"type": "string"},
    "users": {"type": "array", "items": {"type": "string"}},
    "principals": {"type": "array", "items": {"type": "object", "properties": {
        "principal": {"type": "string"}, "decided_by": {"type": "object"}}}},
    "next_cursor": {"type": "string", "nullable": True}}}


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
    role, created = roles.save_role(request.db, request.registry, request.matchdict["name"],
                                    body["permissions"], body.get("title"),
                                    request.authenticated_userid, request.request_id)
    response = Response(json_body=role.as_dict())
    response.status_int = 201 if created else 200
    return response


def role_delete(request: Request) -> Response:
    _superuser_only(request)
    roles.delete_role(request.db, request.registry, request.matchdict["name"],
                      request.authenticated_userid, request.request_id)
    return HTTPNoContent()


def who_view(context: Any, request: Request) -> dict[str, Any]:
    """Users allowed a permission here.

    Naming users is telling who is in which group: like ``@@permissions``
    about another user, it needs ``acl.view`` on the root (or a superuser),
    on top of ``acl.view`` here that the view itself requires.
    """
    permission = request.GET.get("permission")
    if not permission:
        raise query_error("permission", "required",
                          "query parameter 'permission' is required")
    if permission not in registered_permissions(request.registry):
        raise query_error("permission", "unknown permission",
                          f"unknown permission {permission!r}")
    if not request.has_permission("acl.view", request.root):
        raise api_error(403, "forbidden", "listing users needs acl.view on the root",
                        {"permission": "acl.view"})
    limit = page_limit(request)
    after = cursor_after(request, str)
    return whocan.who(request.db, request.registry, context, permission, after, limit)


def _openapi(config: Any) -> None:
    from .coreapi import RESOURCE_PATH

    add = config.add_openapi_path
    # The shapes the views check in code (400 otherwise), stated in the document.
    name = {"name": "name", "in": "path", "required": True,
            "schema": {"type": "string", "pattern": f"^{roles.ROLE_NAME.pattern}$"}}
    add("/@@roles", "get", {
        "summary": "Roles: declared by plugins and stored by superusers (acl.view)",
        "tags": ["acl"],
        "responses": {"200": json_response("roles", {"type": "object", "properties": {
            "items": {"type": "array", "items": ROLE_DOC}}})}})
    add("/@@roles/{name}", "put", {
        "summary": "Create or replace a stored role (superusers)", "tags": ["acl"],
        "parameters": [name], "requestBody": json_body(roles.ROLE_BODY_SCHEMA),
        "responses": {"200": json_response("replaced", ROLE_DOC),
                      "201": json_response("created", ROLE_DOC),
                      "409": json_response("declared_role: a plugin declares it")}})
    add("/@@roles/{name}", "delete", {
        "summary": "Delete a stored role (superusers)", "tags": ["acl"],
        "parameters": [name],
        "responses": {"204": {"description": "deleted"},
                      "409": json_response("role_in_use: ACL entries name it "
                                           "(or declared_role)")}})
    who_params = [
        {"name": "permission", "in": "query", "required": True,
         "schema": {"type": "string", "x-plinth-enum": "permissions"}},
        {"name": "limit", "in": "query", "required": False, "allowEmptyValue": True,
         "schema": {"type": "integer", "minimum": 1, "maximum": 500}},
        {"name": "cursor", "in": "query", "required": False, "schema": {"type": "string"}},
    ]
    for path, params in (("/@@who", []), ("/{resource}/@@who", [RESOURCE_PATH])):
        add(path, "get", {
            "summary": "Every active user allowed a permission here, and the principals "
                       "and entries that decide it (acl.view here and on the root)",
            "tags": ["acl"], "parameters": [*params, *who_params],
            "responses": {"200": json_response("who may", WHO_DOC)}})


def includeme(config: Any) -> None:
    config.add_route("plinth.roles", "/@@roles")
    config.add_route("plinth.role", "/@@roles/{name}")
    config.add_view(roles_list, route_name="plinth.roles", request_method="GET",
                    permission="acl.view", renderer="json")
    config.add_view(role_put, route_name="plinth.role", request_method="PUT",
                    permission="acl.manage", body_schema=roles.ROLE_BODY_SCHEMA)
    config.add_view(role_delete, route_name="plinth.role", request_method="DELETE",
                    permission="acl.manage")
    config.add_view(who_view, name="who", request_method="GET", permission="acl.view",
                    renderer="json", explicit_view_name=True)
    _openapi(config)
