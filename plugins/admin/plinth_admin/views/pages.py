"""The page of every resource: children, panels, its ACL and explanations.

The page checks what the API checks: the resource's view permission (the
nearest one up its lineage) to see the page, each child's to list it,
``acl.view`` for the ACL panel and explanations, ``acl.manage`` to change
the ACL, which goes through the view of ``PUT @@acl`` (same validation,
version check and audit entry).
"""

from __future__ import annotations

from typing import Any

from pyramid.httpexceptions import HTTPForbidden, HTTPSeeOther
from pyramid.request import Request
from pyramid.response import Response
from pyramid.traversal import lineage

from plinth.api import (
    ALL,
    APIError,
    acl_put,
    acladmin,
    api_error,
    path_of,
    prefetch_acls,
    registered_permissions,
    validate,
    view_permission_for,
)

from ..panels import panels_for
from .common import admin_path, render
from .forms import form_post

CHILDREN_PAGE = 50


def page_permission(context: Any) -> str | None:
    """The view permission of the nearest resource up the lineage that has one."""
    for resource in lineage(context):
        permission = view_permission_for(resource)
        if permission is not None:
            return permission
    return None


def page_permits(context: Any, request: Request) -> list[tuple[str, Any]]:
    if request.identity is None:
        raise HTTPForbidden()
    permission = page_permission(context)
    return [(permission, context)] if permission else []


def breadcrumbs(request: Request, context: Any) -> list[dict[str, str]]:
    crumbs = [{"name": r.__name__ or "Root", "url": admin_path(request, r)}
              for r in reversed(list(lineage(context)))]
    return crumbs


def visible_children(request: Request, context: Any) -> dict[str, Any] | None:
    after = request.GET.get("after") or None
    children = context.children(after=after, limit=CHILDREN_PAGE)
    if children is None:
        return None
    prefetch_acls(request, children)
    shown = [c for c in children
             if (p := page_permission(c)) is None or request.has_permission(p, c)]
    more = len(children) == CHILDREN_PAGE
    return {
        "items": [{"name": c.__name__, "url": admin_path(request, c)} for c in shown],
        "next": admin_path(request, context, after=children[-1].__name__) if more else None,
    }


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
                explanation = {"principal": principal, "principals": principals,
                               "permissions": acladmin.explain(
                                   request.db, request.registry, context, principals,
                                   permission)}
    return {"acl": acl, "permissions": permissions,
            "can_manage": bool(request.has_permission("acl.manage", context)),
            "explanation": explanation, "explain_error": error,
            "principal": principal, "permission": permission or ""}


def render_panels(request: Request, context: Any) -> list[dict[str, Any]]:
    from pyramid.renderers import render as render_template

    result = []
    for panel in panels_for(request, context):
        values = panel.view(context, request)
        values.setdefault("panel", panel)
        result.append({"name": panel.name, "title": panel.title,
                       "html": render_template(panel.template, values, request=request)})
    return result


def resource_page(context: Any, request: Request, status: int = 200,
                  error: str | None = None) -> Response:
    return render(request, "resource.jinja2", {
        "title": path_of(context),
        "path": path_of(context),
        "crumbs": breadcrumbs(request, context),
        "children": visible_children(request, context),
        "panels": render_panels(request, context),
        "acl_panel": acl_panel(request, context),
        "error": error,
    }, status)


def _after_change(context: Any, request: Request, change: Any) -> Response:
    """Apply ``change``; back to the page, or the page with the error."""
    try:
        change()
    except APIError as exc:
        request.tm.abort()
        request.tm.begin()
        return resource_page(context, request, exc.code, exc.message + _details(exc))
    return HTTPSeeOther(location=admin_path(request, context) + "#acl")


def _details(exc: APIError) -> str:
    problems = exc.details.get("errors") or []
    return "".join(f" {p.get('message')}." for p in problems if p.get("message"))


def _stored(request: Request, context: Any) -> tuple[list[dict[str, str]], bool]:
    """The current stored entries and inherit flag, after the version check."""
    state = acladmin.acl_state(request.db, path_of(context))
    if request.POST.get("etag") != acladmin.etag_for(state):
        raise api_error(412, "precondition_failed", "The ACL changed since this page was "
                        "loaded: look at it again before changing it.")
    acl = acladmin.describe(request.db, context)
    entries = [{"action": e["action"], "principal": e["principal"],
                "permission": e["permission"]} for e in acl["entries"]]
    return entries, acl["inherit"]


def _position(request: Request, entries: list[Any], allow_end: bool = False) -> int:
    raw = request.POST.get("position", "")
    limit = len(entries) + (1 if allow_end else 0)
    try:
        position = int(raw)
    except ValueError:
        if allow_end and raw == "":
            return len(entries)
        raise api_error(400, "invalid_request", "The position must be a whole number.")
    if not 0 <= position < limit:
        raise api_error(400, "invalid_request", "There is no entry at that position.")
    return position


def _replace(request: Request, context: Any, entries: list[dict[str, str]],
             inherit: bool | None = None) -> None:
    """Save through the view of ``PUT @@acl`` itself, so that every rule of
    the API (validation, delegation limits, the root's guard, the audit
    entry) applies to the console as well."""
    body: dict[str, Any] = {"entries": entries}
    if inherit is not None:
        body["inherit"] = inherit
    request.validated = validate(acladmin.ACL_BODY_SCHEMA, body)
    acl_put(context, request)


@form_post
def acl_add(context: Any, request: Request) -> Response:
    def change() -> None:
        entries, _ = _stored(request, context)
        entry = {"action": request.POST.get("action", ""),
                 "principal": request.POST.get("principal", "").strip(),
                 "permission": request.POST.get("permission", "")}
        if entry["action"] not in ("Allow", "Deny"):
            raise api_error(400, "invalid_request", "The action is Allow or Deny.")
        entries.insert(_position(request, entries, allow_end=True), entry)
        _replace(request, context, entries)

    return _after_change(context, request, change)


@form_post
def acl_move(context: Any, request: Request) -> Response:
    def change() -> None:
        entries, _ = _stored(request, context)
        position = _position(request, entries)
        target = position + (-1 if request.POST.get("direction") == "up" else 1)
        if not 0 <= target < len(entries):
            raise api_error(400, "invalid_request", "That entry cannot move further.")
        entries[position], entries[target] = entries[target], entries[position]
        _replace(request, context, entries)

    return _after_change(context, request, change)


@form_post
def acl_remove(context: Any, request: Request) -> Response:
    def change() -> None:
        entries, _ = _stored(request, context)
        del entries[_position(request, entries)]
        _replace(request, context, entries)

    return _after_change(context, request, change)


@form_post
def acl_inherit(context: Any, request: Request) -> Response:
    def change() -> None:
        entries, _ = _stored(request, context)
        _replace(request, context, entries, request.POST.get("inherit") == "true")

    return _after_change(context, request, change)


ACL_FORMS = {"acl-add": acl_add, "acl-move": acl_move, "acl-remove": acl_remove,
             "acl-inherit": acl_inherit}


def _panel(context: Any, request: Request) -> Any:
    name = request.POST.get("panel", "")
    for panel in panels_for(request, context):
        if panel.name == name and panel.post is not None:
            return panel
    raise HTTPForbidden()


def panel_permits(context: Any, request: Request) -> list[tuple[str, Any]]:
    if request.identity is None:
        raise HTTPForbidden()
    panel = _panel(context, request)
    return panel.post_permits(context, request)


@form_post
def panel_post(context: Any, request: Request) -> Response:
    panel = _panel(context, request)
    try:
        panel.post(context, request)
    except APIError as exc:
        request.tm.abort()
        request.tm.begin()
        return resource_page(context, request, exc.code, exc.message + _details(exc))
    return HTTPSeeOther(location=admin_path(request, context) + f"#panel-{panel.name}")
