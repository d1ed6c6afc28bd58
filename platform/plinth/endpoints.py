"""Endpoints: a JSON view and its OpenAPI operation, declared once.

``config.add_endpoint(view, "/stock/{sku}", "GET", summary=..., ...)``
registers the view (``config.add_view``, with its permission, body schema and
query parameters) and publishes the operation for each of its path templates
(``config.add_openapi_path``), from the same declaration: the body schema the
view validates against is the one documented, the query parameters the view
receives converted are the ones documented.  Traversal decides which view
answers a URL; the path template says how the document spells that URL
(``/locations/{code}/{sku}/movements``), since a resource tree has no route
pattern to derive it from.

Everything is registered through Pyramid's actions: two endpoints claiming
the same path and method conflict at start-up, and the introspector lists
them (category ``plinth openapi``, one entry per operation, with its view).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from . import idempotency
from .openapi import json_body, json_response
from .queryparams import QueryParameter

PATH_PARAMETER = re.compile(r"{([^}/]+)}")


def _path_parameters(path: str, declared: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The parameters of ``path``: its own path parameters (declared, or plain
    strings), then the declared parameters found elsewhere (headers)."""
    by_name = {p["name"]: p for p in declared if p.get("in") == "path"}
    parameters = [
        dict(
            by_name.get(name)
            or {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        )
        for name in PATH_PARAMETER.findall(path)
    ]
    return parameters + [dict(p) for p in declared if p.get("in") != "path"]


def add_endpoint(
    config: Any,
    view: Any,
    path: str | Sequence[str],
    request_method: str | Sequence[str],
    *,
    summary: str,
    description: str | None = None,
    tags: Sequence[str] = (),
    parameters: Sequence[Mapping[str, Any]] = (),
    query: Sequence[QueryParameter] = (),
    body_schema: dict[str, Any] | None = None,
    responses: Mapping[str, Any] | None = None,
    renderer: str | None = "json",
    **view_options: Any,
) -> None:
    """Directive: register ``view`` and publish its OpenAPI operation.

    ``path``: the template (or templates, for a view that answers at several
    places, such as ``/@@acl`` and ``/{resource}/@@acl``) the document shows.
    ``request_method``: one method or several; HEAD is served but not
    documented.  ``parameters``: OpenAPI parameter objects for path
    parameters (those not given are plain strings) and headers; a path
    parameter appears only on the templates that name it.  ``query``: the
    declared query parameters, documented, and converted into
    ``request.query`` before the view runs (a 400 naming every bad one).
    Every POST that needs credentials also documents ``Idempotency-Key``
    (unless ``idempotent=False``).
    ``body_schema``: the JSON Schema of the body, validated into
    ``request.validated`` and documented as the request body.
    ``responses``: the operation's own responses (the standard errors are
    added to every operation); by default a 200 JSON object.  Any other
    keyword (``context``, ``name``, ``route_name``, ``permission``,
    ``public``, ``permits``, predicates) goes to ``config.add_view``.
    """
    paths = (path,) if isinstance(path, str) else tuple(path)
    methods = (request_method,) if isinstance(request_method, str) else tuple(request_method)
    query = tuple(query)
    options = dict(view_options)
    if query:
        options["query"] = query
    if body_schema is not None:
        options["body_schema"] = body_schema
    if renderer is not None:
        options["renderer"] = renderer
    config.add_view(view, request_method=methods, **options)

    for template in paths:
        operation: dict[str, Any] = {"summary": summary}
        if description:
            operation["description"] = description
        if tags:
            operation["tags"] = list(tags)
        documented = [
            *_path_parameters(template, parameters),
            *(parameter.document() for parameter in query),
        ]
        if (
            "POST" in methods
            and not view_options.get("public")
            and view_options.get("idempotent", True)
        ):
            documented.append(dict(idempotency.PARAMETER))
        if documented:
            operation["parameters"] = documented
        if body_schema is not None:
            operation["requestBody"] = json_body(body_schema)
        operation["responses"] = dict(responses or {"200": json_response("OK")})
        if view_options.get("public"):
            operation["x-public"] = True
        for method in methods:
            if method.upper() != "HEAD":
                config.add_openapi_path(template, method, operation, view=view)


def includeme(config: Any) -> None:
    config.add_directive("add_endpoint", add_endpoint)
