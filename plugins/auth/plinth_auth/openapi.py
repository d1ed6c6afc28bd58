"""The auth plugin's paths in /openapi.json."""

from __future__ import annotations

from typing import Any

from plinth.api import error_response, json_body, json_response

from . import schemas

USER_PARAM = {"name": "name", "in": "path", "required": True, "schema": schemas.NAME}
PAGE = [{"name": "limit", "in": "query", "required": False, "allowEmptyValue": True,
         "schema": {"type": "integer", "minimum": 1, "maximum": 500}},
        {"name": "cursor", "in": "query", "required": False, "schema": {"type": "string"}}]


def includeme(config: Any) -> None:
    add = config.add_openapi_path
    tags = ["auth"]
    add("/auth/tokens", "post", {
        "summary": "Issue an API token for a username and password (public)", "tags": tags,
        "x-public": True, "requestBody": json_body(schemas.TOKEN_REQUEST),
        "responses": {"201": json_response("the token; keep it secret", schemas.TOKEN_ISSUED),
                      "503": error_response("the login rate-limit storage is down and "
                                            "auth.ratelimit_failure is closed")}})
    add("/auth/tokens", "get", {
        "summary": "Your live tokens (never their secrets)", "tags": tags,
        "responses": {"200": json_response("tokens")}})
    add("/auth/tokens/{id}", "delete", {
        "summary": "Revoke a token (its owner or auth.manage)", "tags": tags,
        "parameters": [{"name": "id", "in": "path", "required": True,
                        "schema": {"type": "string"}}],
        "responses": {"204": {"description": "revoked"}}})
    add("/auth/whoami", "get", {
        "summary": "Who you are and the principals you hold", "tags": tags,
        "responses": {"200": json_response("you", schemas.WHOAMI)}})
    add("/auth/users", "get", {
        "summary": "Users, by name (auth.manage)", "tags": tags, "parameters": PAGE,
        "responses": {"200": json_response("a page of users")}})
    add("/auth/users/{name}", "get", {
        "summary": "A user (auth.manage)", "tags": tags, "parameters": [USER_PARAM],
        "responses": {"200": json_response("the user", schemas.USER)}})
    add("/auth/users/{name}", "put", {
        "summary": "Create or update a user (auth.manage)", "tags": tags,
        "parameters": [USER_PARAM], "requestBody": json_body(schemas.USER_PUT),
        "responses": {"200": json_response("updated", schemas.USER),
                      "201": json_response("created", schemas.USER),
                      "403": json_response("delegation_denied: beyond the caller's groups, "
                                           "or a superuser"),
                      "409": json_response("last_superuser")}})
    add("/auth/users/{name}", "delete", {
        "summary": "Delete a user (auth.manage) and the ACL entries naming it, unless "
                   "keep_grants=true (remove_grants=false, the older spelling, too)",
        "tags": tags,
        "parameters": [USER_PARAM, *[
            {"name": flag, "in": "query", "required": False,
             "schema": {"type": "string", "enum": ["true", "false"]}}
            for flag in ("keep_grants", "remove_grants")]],
        "responses": {"204": {"description": "deleted"},
                      "403": json_response("delegation_denied: a superuser"),
                      "409": json_response("last_superuser")}})
    add("/auth/groups", "get", {
        "summary": "Groups with their member counts (auth.manage)", "tags": tags,
        "responses": {"200": json_response("groups")}})
    add("/auth/groups/{name}", "get", {
        "summary": "A group and its members (auth.manage)", "tags": tags,
        "parameters": [USER_PARAM],
        "responses": {"200": json_response("the group")}})
