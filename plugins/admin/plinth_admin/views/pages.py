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

from plinth import acladmin, whocan
from plinth.acl import ALL, ROLE_PREFIX, path_of, registered_permissions
from plinth.errors import APIError, api_error
from plinth.roles import all_roles
from plinth.security import effective_principals, view_permission_for
from plinth.validation import validate
from plinth.views import acl_put
from plinth.visibility import visible

from ..panels import panels_for
from .common import admin_path, render
from .forms import discard_writes, form_post, form_problems

CHILDREN_PAGE = 50
# Batches of children read for one page at most (see visible_children).
SCAN_BATCHES = 10
WHO_PAGE = 50


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


def _viewable(request: Request, children: list[Any]) -> list[Any]:
    """The ``children`` the viewer may view, in order, decided by the core's
    visibility rule (:func:`plinth.visibility.visible`), one call for the
    children that need the same permission."""
    by_permission: dict[str | None, list[Any]] = {}
    for child in children:
        by_permission.setdefault(page_permission(child), []).append(child)
    kept = {id(child) for permission, group in by_permission.items()
            for child in (group if permission is None else visible(request, permission, group))}
    return [child for child in children if id(child) in kept]


def visible_children(request: Request, context: Any) -> dict[str, Any] | None:
    """A page of the children the viewer may view, or None for a resource
    that does not list its children.

    Pages are of visible children: batches are read (in name order) until
    more than a page is found, at most ``SCAN_BATCHES`` of them, so that a viewer who may
    see few of many children still gets a bounded page; then the next link
    goes on from the last child read.
    """
    after = request.GET.get("after") or None
    shown: list[Any] = []
    exhausted = False
    for _ in range(SCAN_BATCHES):
        batch = context.children(after=after, limit=CHILDREN_PAGE)
        if batch is None:
            return None
        shown.extend(_viewable(request, batch))
        if len(batch) < CHILDREN_PAGE:
            exhausted = True
            break
        after = batch[-1].__name__
        if len(shown) > CHILDREN_PAGE:
            break  # one more than a page: the next page is not empty
    if len(shown) > CHILDREN_PAGE:
        shown, after, exhausted = shown[:CHILDREN_PAGE], shown[CHILDREN_PAGE - 1].__name__, False
    return {
        "items": [{"name": c.__name__, "url": admin_path(request, c)} for c in shown],
        "next": None if exhausted else admin_path(request, context, after=after) + "#children",
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
    who, who_error = who_may(request, context, permissions[1:])
    grantable = [*permissions, *(f"{ROLE_PREFIX}{role.name}"
                                 for role in all_roles(request.db, request.registry))]
    return {"acl": acl, "permissions": permissions, "grantable": grantable,
            "can_manage": bool(request.has_permission("acl.manage", context)),
            "explanation": explanation, "explain_error": error,
            "principal": principal, "permission": permission or "",
            "who": who, "who_error": who_error, "who_permission": request.GET.get("who", "")}


def who_may(request: Request, context: Any,
            permissions: list[str]) -> tuple[dict[str, Any] | None, str | None]:
    """"Who may do Y here": a page of ``@@who``'s answer, under its rules
    (naming users tells who is in which group: ``acl.view`` on the root)."""
    permission = request.GET.get("who", "").strip()
    if not permission:
        return None, None
    if permission not in permissions:
        return None, f"Unknown permission {permission!r}."
    if not request.has_permission("acl.view", request.root):
        return None, "Listing users needs acl.view on the root."
    after = request.GET.get("who_after") or None
    result = whocan.who(request.db, request.registry, context, permission, after, WHO_PAGE)
    users = result["users"]
    result["next"] = admin_path(request, context, who=permission, who_after=users[-1]) \
        + "#who" if result["next_cursor"] else None
    return result, None


def render_panels(request: Request, context: Any,
                  errors: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """The panels' HTML; a panel named in ``errors`` shows that message above it."""
    from pyramid.renderers import render as render_template

    result = []
    for panel in panels_for(request, context):
        values = panel.view(context, request)
        values.setdefault("panel", panel)
        result.append({"name": panel.name, "title": panel.title,
                       "error": (errors or {}).get(panel.name),
                       "html": render_template(panel.template, values, request=request)})
    return result


def resource_page(context: Any, request: Request, status: int = 200,
                  error: str | None = None, preview: dict[str, Any] | None = None,
                  panel_errors: dict[str, str] | None = None) -> Response:
    return render(request, "resource.jinja2", {
        "title": path_of(context),
        "path": path_of(context),
        "crumbs": breadcrumbs(request, context),
        "children": visible_children(request, context),
        "panels": render_panels(request, context, panel_errors),
        "acl_panel": acl_panel(request, context),
        "error": error,
        "preview": preview,
    }, status)


def _refused(context: Any, request: Request, exc: APIError) -> Response:
    """The page again with the error, and nothing of the request written."""
    context = discard_writes(request, context)
    return resource_page(context, request, exc.code, form_problems(exc))


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


Entries = list[dict[str, str]]


def _add(request: Request, entries: Entries, inherit: bool) -> tuple[Entries, bool | None]:
    entry = {"action": request.POST.get("action", ""),
             "principal": request.POST.get("principal", "").strip(),
             "permission": request.POST.get("permission", "")}
    if entry["action"] not in ("Allow", "Deny"):
        raise api_error(400, "invalid_request", "The action is Allow or Deny.")
    entries.insert(_position(request, entries, allow_end=True), entry)
    return entries, None


def _move(request: Request, entries: Entries, inherit: bool) -> tuple[Entries, bool | None]:
    position = _position(request, entries)
    target = position + (-1 if request.POST.get("direction") == "up" else 1)
    if not 0 <= target < len(entries):
        raise api_error(400, "invalid_request", "That entry cannot move further.")
    entries[position], entries[target] = entries[target], entries[position]
    return entries, None


def _remove(request: Request, entries: Entries, inherit: bool) -> tuple[Entries, bool | None]:
    del entries[_position(request, entries)]
    return entries, None


def _inherit(request: Request, entries: Entries, inherit: bool) -> tuple[Entries, bool | None]:
    return entries, request.POST.get("inherit") == "true"


# What each ACL form does to the stored entries (and maybe the inherit flag).
EDITS = {"add": _add, "move": _move, "remove": _remove, "inherit": _inherit}
# The fields an edit is made of, carried from the preview to its confirmation.
EDIT_FIELDS = ("edit", "etag", "action", "principal", "permission", "position", "direction",
               "inherit")


def _body(request: Request, entries: Entries, inherit: bool | None) -> dict[str, Any]:
    body: dict[str, Any] = {"entries": entries}
    if inherit is not None:
        body["inherit"] = inherit
    return validate(acladmin.ACL_BODY_SCHEMA, body)


def _preview(request: Request, context: Any, entries: Entries,
             inherit: bool | None) -> list[dict[str, Any]]:
    """What ``PUT @@acl?dry_run=true`` answers: the same validation and
    delegation checks as the write, then the decisions the change flips."""
    body = _body(request, entries, inherit)
    result = acladmin.preview_acl(request.db, request.registry, context, body["entries"],
                                  body.get("inherit"), caller=effective_principals(request))
    return list(result["changes"])


def _replace(request: Request, context: Any, entries: Entries,
             inherit: bool | None = None) -> None:
    """Save through the view of ``PUT @@acl`` itself, so that every rule of
    the API (validation, delegation limits, the root's guard, the audit
    entry) applies to the console as well.  The page's ETag becomes the
    request's ``If-Match``, compared under the ACL's write lock: a change
    made by someone else since the preview is refused, not overwritten."""
    request.validated = _body(request, entries, inherit)
    request.headers["If-Match"] = f'"{request.POST.get("etag", "")}"'
    acl_put(context, request)


@form_post
def acl_edit(context: Any, request: Request) -> Response:
    """Every ACL form: first a preview of what the change flips, then, when
    the preview's confirm button sends the same fields back, the change."""
    edit = EDITS.get(request.POST.get("edit", ""))
    try:
        if edit is None:
            raise api_error(400, "invalid_request", "Unknown change.")
        entries, inherit = edit(request, *_stored(request, context))
        if request.POST.get("confirm") == "yes":
            _replace(request, context, entries, inherit)
            return HTTPSeeOther(location=admin_path(request, context) + "#acl")
        changes = _preview(request, context, entries, inherit)
    except APIError as exc:
        return _refused(context, request, exc)
    preview = {"changes": changes, "entries": entries,
               "inherit": inherit, "fields": {name: request.POST[name]
                                              for name in EDIT_FIELDS if name in request.POST}}
    return resource_page(context, request, preview=preview)


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
        result = panel.post(context, request)
    except APIError as exc:
        context = discard_writes(request, context)
        return resource_page(context, request, exc.code,
                             panel_errors={panel.name: form_problems(exc)})
    if isinstance(result, Response):
        return result
    return HTTPSeeOther(location=admin_path(request, context) + f"#panel-{panel.name}")
