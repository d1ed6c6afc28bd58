"""The OpenAPI 3.1 document, assembled from what the enabled plugins contribute.

``config.add_endpoint`` (:mod:`plinth.endpoints`) declares a view with its
operation; ``config.add_openapi_path(path, method, operation, view)``
registers one operation; two registrations of the same path and method
conflict, and an operation without a view stops start-up.  Schemas that views
validate against (``body_schema=``) are the same objects placed here, so the
document and the validation cannot drift apart.
"""

from __future__ import annotations

import copy
from typing import Any

from pyramid.exceptions import ConfigurationError

from . import __version__
from .roles import ROLE_NAME
from .viewsecurity import view_name

ERROR_SCHEMA = {
    "type": "object",
    "required": ["status", "error", "message", "details"],
    "properties": {
        "status": {"type": "integer"},
        "error": {"type": "string"},
        "message": {"type": "string"},
        "details": {"type": "object"},
    },
}

STANDARD_ERRORS = {
    "400": "invalid input",
    "401": "no or invalid credentials",
    "403": "not allowed",
    "404": "not found",
    "409": "conflict",
    "412": "If-Match did not match",
    "413": "body too large",
    "415": "wrong content type",
    "422": "Idempotency-Key reused with another request",
    "429": "rate limited",
}


def error_response(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


def json_response(description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": schema or {"type": "object"}}},
    }


def json_body(schema: dict[str, Any]) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def add_openapi_path(
    config: Any, path: str, method: str, operation: dict[str, Any], view: Any = None
) -> None:
    """Directive: publish ``operation`` for ``method path`` in /openapi.json.

    ``view`` is the view that serves it; an operation that names none, or a
    view that is not registered for ``method``, stops start-up (see
    :func:`check_documented_views`).  Plugins declare endpoints with
    ``config.add_endpoint``, which calls this; it is for operations served by
    a view declared elsewhere (a report's own path, say).
    """
    method = method.lower()

    def register() -> None:
        config.registry.setdefault("plinth.openapi.paths", {}).setdefault(path, {})[method] = (
            operation
        )
        config.registry.pop("plinth.openapi.document", None)

    intr = config.introspectable(
        "plinth openapi", (path, method), f"{method.upper()} {path}", "plinth openapi operation"
    )
    intr["path"] = path
    intr["method"] = method
    intr["view"] = view
    intr["operation"] = operation
    config.action(("plinth.openapi", path, method), register, introspectables=(intr,))


def undocumented_views(registry: Any) -> list[str]:
    """One line for each documented operation that no registered view serves."""
    served = set()
    for entry in registry.introspector.get_category("views"):
        intr = entry["introspectable"]
        methods = intr["request_methods"]
        # None: the view answers every method.
        methods = (methods,) if isinstance(methods, str) else tuple(methods or ("*",))
        for method in methods:
            served.add((intr["callable"], method.lower()))
    problems = []
    for entry in registry.introspector.get_category("plinth openapi"):
        intr = entry["introspectable"]
        view, method, path = intr["view"], intr["method"], intr["path"]
        if view is None:
            problems.append(
                f"operation {method.upper()} {path} is documented but no view "
                "serves it: declare it with config.add_endpoint(view, ...)"
            )
        elif (view, method) not in served and (view, "*") not in served:
            problems.append(
                f"operation {method.upper()} {path} is documented for view "
                f"{view_name(view)}, which is not registered for "
                f"{method.upper()}"
            )
    return sorted(problems)


def check_documented_views(config: Any) -> None:
    """After every view is registered: an operation without a view stops start-up."""

    def check() -> None:
        problems = undocumented_views(config.registry)
        if problems:
            raise ConfigurationError(problems[0])

    # Order 1: after the views and operations, which register at order 0.
    config.action("plinth.documented_views", check, order=1)


# JSON text may hold no NUL character (the server refuses it: PostgreSQL
# cannot store it), whatever a schema allows; the document says so.
NO_NUL = "^[^\\u0000]*$"


def _server_rules(schema: Any, registry: Any) -> None:
    """State in ``schema`` (a copy) what the server checks in code.

    Strings without a pattern exclude NUL; ``x-plinth-enum: permissions``
    becomes the declared permissions (``grantable``: also ``ALL`` and ``role:NAME``).
    """
    if isinstance(schema, list):
        for item in schema:
            _server_rules(item, registry)
        return
    if not isinstance(schema, dict):
        return
    names = schema.pop("x-plinth-enum", None)
    if names is not None:
        permissions = sorted(registry.get("plinth.permissions", {}))
        if names == "grantable":
            # An ACL entry names a permission, ALL, or a role (declared or
            # stored at run time, so described by its shape).
            schema["anyOf"] = [
                {"enum": [*permissions, "ALL"]},
                {"pattern": f"^role:{ROLE_NAME.pattern}$"},
            ]
        else:
            schema["enum"] = permissions
    kind = schema.get("type")
    if (
        (kind == "string" or (isinstance(kind, list) and "string" in kind))
        and "pattern" not in schema
        and "enum" not in schema
        and "format" not in schema
    ):
        schema["pattern"] = NO_NUL
    for key, value in schema.items():
        if key == "properties" and isinstance(value, dict):
            for sub in value.values():
                _server_rules(sub, registry)
        elif key in ("items", "not", "oneOf", "anyOf", "allOf", "additionalProperties"):
            _server_rules(value, registry)


def _document_operation(op: dict[str, Any], registry: Any) -> None:
    for parameter in op.get("parameters", []):
        _server_rules(parameter.get("schema"), registry)
    for media in op.get("requestBody", {}).get("content", {}).values():
        _server_rules(media.get("schema"), registry)


def build_document(registry: Any) -> dict[str, Any]:
    document = registry.get("plinth.openapi.document")
    if document is not None:
        return document
    plugins = registry.get("plinth.plugins", [])
    paths: dict[str, Any] = {}
    for path, operations in sorted(registry.get("plinth.openapi.paths", {}).items()):
        item = paths[path] = {}
        for method, operation in sorted(operations.items()):
            op = copy.deepcopy(operation)
            _document_operation(op, registry)
            responses = op.setdefault("responses", {})
            for code, description in STANDARD_ERRORS.items():
                responses.setdefault(code, error_response(description))
            responses.setdefault("500", error_response("unexpected error"))
            if op.pop("x-public", False):
                op["security"] = []
            item[method] = op
    document = {
        "openapi": "3.1.0",
        # The dialect of every schema here is the one requests are validated
        # with (plinth.validation.StrictValidator).
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "info": {
            "title": "Plinth",
            "version": __version__,
            "description": "Enabled plugins: " + ", ".join(f"{p.name} {p.version}" for p in plugins)
            if plugins
            else "No plugins enabled.",
        },
        "paths": paths,
        "components": {
            "schemas": {"Error": ERROR_SCHEMA},
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearer": []}],
    }
    registry["plinth.openapi.document"] = document
    return document


def includeme(config: Any) -> None:
    config.add_directive("add_openapi_path", add_openapi_path)
    check_documented_views(config)
