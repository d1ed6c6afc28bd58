"""Who may reach a view: its permission, ``public=True`` or ``permits=``.

Every view says where it is declared how it is guarded: a ``permission``, a
``permits=`` callable (permissions that depend on the request body), or
``public=True`` (reachable by anyone: health, logging in, the API document).
A view with none of them stops start-up with one line naming it, so that the
core never keeps a list of other packages' public views and a forgotten
permission never ships; so does a view whose permission no enabled plugin
declares (a typo such as ``shelves.mange`` would otherwise deny everybody
but superusers, silently).
"""

from __future__ import annotations

import difflib
from typing import Any

from pyramid.exceptions import ConfigurationError
from pyramid.httpexceptions import HTTPForbidden, default_exceptionresponse_view
from pyramid.request import Request
from pyramid.security import NO_PERMISSION_REQUIRED
from pyramid.static import static_view

from .acl import registered_permissions


def view_name(view: Any) -> str:
    """A view's dotted name, as start-up errors and tests show it."""
    view = getattr(view, "__wrapped__", view)
    return f"{getattr(view, '__module__', '?')}.{getattr(view, '__qualname__', repr(view))}"


def _exempt(info: Any) -> bool:
    # Error views render errors and grant nothing; static assets are made
    # public by add_static_view(permission=NO_PERMISSION_REQUIRED) itself.
    original = info.original_view
    return (
        info.exception_only
        or original is default_exceptionresponse_view
        or isinstance(original, static_view)
    )


def public_deriver(view: Any, info: Any) -> Any:
    """Refuse, at start-up, a view that is neither guarded nor declared public."""
    if _exempt(info):
        return view
    permission = info.options.get("permission")
    unguarded = permission is None or permission == NO_PERMISSION_REQUIRED
    if info.options.get("public"):
        if not unguarded:
            raise ConfigurationError(
                f"view {view_name(info.original_view)} is public=True and also has "
                f"permission {permission!r}: keep one"
            )
        return view
    if unguarded and info.options.get("permits") is None:
        raise ConfigurationError(
            f"view {view_name(info.original_view)} has no permission: give it "
            "permission='plugin.permission', permits=..., or public=True if anyone may call it"
        )
    return view


public_deriver.options = ("public",)  # type: ignore[attr-defined]


def permits_deriver(view: Any, info: Any) -> Any:
    """``permits=callable``: permissions that depend on the request body.

    ``permits(context, request)`` returns ``(permission, resource)`` pairs that
    must all be granted (checked after the body is validated).  Such a view
    has no ``permission`` of its own.
    """
    check = info.options.get("permits")
    if check is None:
        return view

    def permitted_view(context: Any, request: Request) -> Any:
        for permission, resource in check(context, request):
            result = request.has_permission(permission, resource)
            if not result:
                raise HTTPForbidden(result=result)
        return view(context, request)

    return permitted_view


permits_deriver.options = ("permits",)  # type: ignore[attr-defined]


def undeclared_permissions(registry: Any) -> list[str]:
    """One line for each view whose permission no plugin declared."""
    declared = registered_permissions(registry)
    problems = []
    for entry in registry.introspector.get_category("permissions"):
        permission = entry["introspectable"]["value"]
        if permission == NO_PERMISSION_REQUIRED or permission in declared:
            continue
        for related in entry["related"]:
            if related.category_name != "views":
                continue
            close = difflib.get_close_matches(permission, declared, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            problems.append(
                f"view {view_name(related['callable'])} has permission "
                f"{permission!r}, which no enabled plugin declares{hint}"
            )
    return sorted(problems)


def check_declared_permissions(config: Any) -> None:
    """After every view is registered: a typo in a permission stops start-up."""

    def check() -> None:
        problems = undeclared_permissions(config.registry)
        if problems:
            raise ConfigurationError(problems[0])

    # Order 1: after the views and permissions, which register at order 0.
    config.action("plinth.declared_view_permissions", check, order=1)


def includeme(config: Any) -> None:
    config.add_view_deriver(public_deriver, under="decorated_view", over="rendered_view")
    config.add_view_deriver(permits_deriver, under="public_deriver", over="rendered_view")
    check_declared_permissions(config)
