"""The core's JSON endpoints: each view with its OpenAPI operation."""

from __future__ import annotations

import copy
from typing import Any

from . import accessviews, roles, views
from .acladmin import ACL_BODY_SCHEMA
from .openapi import json_response
from .paging import PAGING
from .preconditions import IF_MATCH
from .queryparams import QueryParameter
from .resources import Root

RESOURCE_PATH = {
    "name": "resource",
    "in": "path",
    "required": True,
    "schema": {"type": "string"},
    "description": "a resource path, e.g. stock/A-1 or locations/WH1",
}


def documented_acl_body() -> dict[str, Any]:
    """The ACL body as published: the validated schema, plus what the server
    checks in code (the principal's shape; a declared permission, ALL or a role)."""
    schema: dict[str, Any] = copy.deepcopy(ACL_BODY_SCHEMA)
    entry = schema["properties"]["entries"]["items"]["properties"]
    entry["principal"]["pattern"] = (
        "^((user|group):[A-Za-z0-9._@+-]{1,150}|system\\.Everyone|system\\.Authenticated)$"
    )
    entry["permission"]["x-plinth-enum"] = "grantable"
    return schema


ACL_DOC = {
    "type": "object",
    "properties": {
        "resource": {"type": "string"},
        "inherit": {"type": "boolean"},
        "entries": {"type": "array", "items": {"type": "object"}},
        "defaults": {"type": "array", "items": {"type": "object"}},
        "inherited": {"type": "array", "items": {"type": "object"}},
        "etag": {"type": "string"},
    },
}


def includeme(config: Any) -> None:
    add = config.add_endpoint
    add(
        views.home,
        "/",
        ("GET", "HEAD"),
        context=Root,
        name="",
        public=True,
        summary="Platform version, enabled plugins, your principals",
        tags=["core"],
        responses={"200": json_response("platform information")},
    )
    add(
        views.health,
        "/health",
        ("GET", "HEAD"),
        route_name="plinth.health",
        public=True,
        summary="The process is up",
        tags=["core"],
        responses={"200": json_response("up")},
    )
    add(
        views.ready,
        "/ready",
        ("GET", "HEAD"),
        route_name="plinth.ready",
        public=True,
        summary="Database reachable and migrations applied",
        tags=["core"],
        responses={"200": json_response("ready"), "503": json_response("not ready")},
    )
    add(
        views.openapi,
        "/openapi.json",
        ("GET", "HEAD"),
        route_name="plinth.openapi",
        public=True,
        summary="This document",
        tags=["core"],
        responses={"200": json_response("OpenAPI 3 document")},
    )

    acl_paths = ("/@@acl", "/{resource}/@@acl")
    add(
        views.acl_get,
        acl_paths,
        "GET",
        name="acl",
        permission="acl.view",
        explicit_view_name=True,
        parameters=[RESOURCE_PATH],
        summary="The resource's ACL, its inherit flag and what it inherits (acl.view)",
        tags=["acl"],
        responses={"200": json_response("the ACL", ACL_DOC)},
    )
    add(
        views.acl_put_view,
        acl_paths,
        "PUT",
        name="acl",
        permission="acl.manage",
        explicit_view_name=True,
        parameters=[RESOURCE_PATH, IF_MATCH],
        query=[
            QueryParameter(
                "dry_run",
                {"type": "boolean", "default": False},
                description="true: answer {dry_run, changes} with the "
                "decisions the change would flip; nothing is "
                "written or audited",
            )
        ],
        body_schema=documented_acl_body(),
        summary="Replace the resource's stored ACL entries (acl.manage)",
        tags=["acl"],
        responses={
            "200": json_response("the new ACL", ACL_DOC),
            "403": json_response(
                "delegation_denied: an entry beyond the caller's own permissions (named in details)"
            ),
        },
    )
    add(
        views.permissions_view,
        ("/@@permissions", "/{resource}/@@permissions"),
        "GET",
        name="permissions",
        permission="acl.view",
        explicit_view_name=True,
        parameters=[RESOURCE_PATH],
        query=[
            QueryParameter("principal", {"type": "string"}),
            QueryParameter("permission", {"type": "string", "x-plinth-enum": "permissions"}),
        ],
        summary="Effective permissions of a principal with the deciding entries (acl.view)",
        tags=["acl"],
        responses={"200": json_response("explanations")},
    )
    add(
        views.grants_view,
        "/@@grants",
        "GET",
        context=Root,
        name="grants",
        permission="acl.view",
        explicit_view_name=True,
        query=[QueryParameter("principal", {"type": "string", "minLength": 1}, required=True)],
        summary="Every stored entry naming a principal (acl.view)",
        tags=["acl"],
        responses={"200": json_response("grants")},
    )
    add(
        views.audit_view,
        "/@@audit",
        "GET",
        context=Root,
        name="audit",
        permission="acl.view",
        explicit_view_name=True,
        query=views.AUDIT_QUERY,
        summary="The audit log, newest first (acl.view on the root)",
        tags=["acl"],
        responses={"200": json_response("audit entries")},
    )

    # The shapes the views check in code (400 otherwise), stated in the document.
    role_name = {
        "name": "name",
        "in": "path",
        "required": True,
        "schema": {"type": "string", "pattern": f"^{roles.ROLE_NAME.pattern}$"},
    }
    add(
        accessviews.roles_list,
        "/@@roles",
        "GET",
        route_name="plinth.roles",
        permission="acl.view",
        summary="Roles: declared by plugins and stored by superusers (acl.view)",
        tags=["acl"],
        responses={
            "200": json_response(
                "roles",
                {
                    "type": "object",
                    "properties": {"items": {"type": "array", "items": accessviews.ROLE_DOC}},
                },
            )
        },
    )
    add(
        accessviews.role_put,
        "/@@roles/{name}",
        "PUT",
        route_name="plinth.role",
        permission="acl.manage",
        parameters=[role_name],
        body_schema=roles.ROLE_BODY_SCHEMA,
        summary="Create or replace a stored role (superusers)",
        tags=["acl"],
        responses={
            "200": json_response("replaced", accessviews.ROLE_DOC),
            "201": json_response("created", accessviews.ROLE_DOC),
            "409": json_response("declared_role: a plugin declares it"),
        },
    )
    add(
        accessviews.role_delete,
        "/@@roles/{name}",
        "DELETE",
        route_name="plinth.role",
        permission="acl.manage",
        parameters=[role_name],
        renderer=None,
        summary="Delete a stored role (superusers)",
        tags=["acl"],
        responses={
            "204": {"description": "deleted"},
            "409": json_response("role_in_use: ACL entries name it (or declared_role)"),
        },
    )
    add(
        accessviews.who_view,
        ("/@@who", "/{resource}/@@who"),
        "GET",
        name="who",
        permission="acl.view",
        explicit_view_name=True,
        parameters=[RESOURCE_PATH],
        query=[
            QueryParameter(
                "permission", {"type": "string", "x-plinth-enum": "permissions"}, required=True
            ),
            *PAGING,
        ],
        summary="Every active user allowed a permission here, and the principals and "
        "entries that decide it (acl.view here and on the root)",
        tags=["acl"],
        responses={"200": json_response("who may", accessviews.WHO_DOC)},
    )
