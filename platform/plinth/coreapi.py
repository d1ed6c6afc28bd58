"""The core's contribution to /openapi.json."""

from __future__ import annotations

import copy
from typing import Any

from .acladmin import ACL_BODY_SCHEMA
from .openapi import json_body, json_response

RESOURCE_PATH = {"name": "resource", "in": "path", "required": True,
                 "schema": {"type": "string"},
                 "description": "a resource path, e.g. stock/A-1 or locations/WH1"}


def documented_acl_body() -> dict[str, Any]:
    """The ACL body as published: the validated schema, plus what the server
    checks in code (the principal's shape; a declared permission, ALL or a role)."""
    schema: dict[str, Any] = copy.deepcopy(ACL_BODY_SCHEMA)
    entry = schema["properties"]["entries"]["items"]["properties"]
    entry["principal"]["pattern"] = ("^((user|group):[A-Za-z0-9._@+-]{1,150}|"
                                     "system\\.Everyone|system\\.Authenticated)$")
    entry["permission"]["x-plinth-enum"] = "grantable"
    return schema


ACL_DOC = {
    "type": "object",
    "properties": {
        "resource": {"type": "string"}, "inherit": {"type": "boolean"},
        "entries": {"type": "array", "items": {"type": "object"}},
        "defaults": {"type": "array", "items": {"type": "object"}},
        "inherited": {"type": "array", "items": {"type": "object"}},
        "etag": {"type": "string"},
    },
}


def includeme(config: Any) -> None:
    add = config.add_openapi_path
    add("/", "get", {"summary": "Platform version, enabled plugins, your principals",
                     "tags": ["core"], "x-public": True,
                     "responses": {"200": json_response("platform information")}})
    add("/health", "get", {"summary": "The process is up", "tags": ["core"], "x-public": True,
                           "responses": {"200": json_response("up")}})
    add("/ready", "get", {"summary": "Database reachable and migrations applied",
                          "tags": ["core"], "x-public": True,
                          "responses": {"200": json_response("ready"),
                                        "503": json_response("not ready")}})
    add("/openapi.json", "get", {"summary": "This document", "tags": ["core"],
                                 "x-public": True,
                                 "responses": {"200": json_response("OpenAPI 3 document")}})
    for path, params in (("/@@acl", []), ("/{resource}/@@acl", [RESOURCE_PATH])):
        add(path, "get", {"summary": "The resource's ACL, its inherit flag and what it "
                                     "inherits (acl.view)", "tags": ["acl"],
                          "parameters": params,
                          "responses": {"200": json_response("the ACL", ACL_DOC)}})
        add(path, "put", {"summary": "Replace the resource's stored ACL entries (acl.manage)",
                          "tags": ["acl"], "parameters": [*params, {
                              "name": "If-Match", "in": "header", "required": False,
                              "schema": {"type": "string"}}, {
                              "name": "dry_run", "in": "query", "required": False,
                              "schema": {"type": "boolean"},
                              "description": "true: answer {dry_run, changes} with the "
                                             "decisions the change would flip; nothing is "
                                             "written or audited"}],
                          "requestBody": json_body(documented_acl_body()),
                          "responses": {"200": json_response("the new ACL", ACL_DOC),
                                        "403": json_response(
                                            "delegation_denied: an entry beyond the "
                                            "caller's own permissions (named in details)")}})
    permission_params = [
        {"name": "principal", "in": "query", "required": False, "schema": {"type": "string"}},
        {"name": "permission", "in": "query", "required": False,
         "schema": {"type": "string", "x-plinth-enum": "permissions"}},
    ]
    for path, params in (("/@@permissions", []), ("/{resource}/@@permissions", [RESOURCE_PATH])):
        add(path, "get", {"summary": "Effective permissions of a principal with the deciding "
                                     "entries (acl.view)", "tags": ["acl"],
                          "parameters": [*params, *permission_params],
                          "responses": {"200": json_response("explanations")}})
    add("/@@grants", "get", {"summary": "Every stored entry naming a principal (acl.view)",
                             "tags": ["acl"],
                             "parameters": [{**permission_params[0], "required": True,
                                             "schema": {"type": "string", "minLength": 1}}],
                             "responses": {"200": json_response("grants")}})
    add("/@@audit", "get", {
        "summary": "The audit log, newest first (acl.view on the root)", "tags": ["acl"],
        "parameters": [
            {"name": n, "in": "query", "required": False, "schema": {"type": "string"}}
            for n in ("actor", "kind", "resource", "cursor")
        ] + [
            {"name": n, "in": "query", "required": False, "allowEmptyValue": True,
             "description": "an ISO 8601 date or date and time",
             "schema": {"anyOf": [{"type": "string", "format": "date"},
                                  {"type": "string", "format": "date-time"}]}}
            for n in ("since", "until")
        ] + [{"name": "limit", "in": "query", "required": False, "allowEmptyValue": True,
              "schema": {"type": "integer", "minimum": 1, "maximum": 500}}],
        "responses": {"200": json_response("audit entries")}})
