"""The methods a resource answers to, for the ``Allow`` header of a 405."""

from __future__ import annotations

from typing import Any

from pyramid.request import Request


def _applies(view_context: Any, context: Any) -> bool:
    if view_context is None:
        return True
    if isinstance(view_context, type):
        return isinstance(context, view_context)
    provided_by = getattr(view_context, "providedBy", None)  # a zope interface
    return bool(provided_by(context)) if provided_by is not None else False


def allowed_methods(request: Request) -> list[str]:
    """The methods of the views registered for this request's context and view name.

    Read from the view introspectables, so that it is always what is
    registered: a plugin adding a view to a resource adds its method here.
    """
    route = getattr(request, "matched_route", None)
    route_name = route.name if route is not None else None
    context = getattr(request, "context", None)
    view_name = getattr(request, "view_name", "")
    methods: set[str] = set()
    for view in request.registry.introspector.get_category("views"):
        intr = view["introspectable"]
        if intr["exception_only"] or intr["route_name"] != route_name:
            continue
        if intr["name"] != view_name or not _applies(intr["context"], context):
            continue
        declared = intr["request_methods"]
        if declared is None:
            continue  # any method: not a cause of a 405
        methods.update((declared,) if isinstance(declared, str) else declared)
    if "GET" in methods:
        methods.add("HEAD")  # as Pyramid's request_method predicate does
    return sorted(methods)
