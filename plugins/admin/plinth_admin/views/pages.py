"""The page of every resource: breadcrumbs, children, panels, the ACL panel.

The page checks what the API checks: the resource's view permission (the
nearest one up its lineage) to see the page, each child's to list it, and
each panel's own (the ACL panel: :mod:`.acl_panel`; its forms:
:mod:`.acl_forms`; plugins' panels: :mod:`plinth_admin.panels`).
"""

from __future__ import annotations

from typing import Any

from pyramid.httpexceptions import HTTPForbidden, HTTPSeeOther
from pyramid.request import Request
from pyramid.response import Response
from pyramid.traversal import lineage

from plinth.api import APIError, path_of, view_permission_for, visible

from ..panels import panels_for
from .acl_panel import acl_panel
from .common import admin_path, render
from .forms import discard_writes, form_post, form_problems

CHILDREN_PAGE = 50
# Batches of children read for one page at most (see visible_children).
SCAN_BATCHES = 10


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
    return [
        {"name": r.__name__ or "Root", "url": admin_path(request, r)}
        for r in reversed(list(lineage(context)))
    ]


def _viewable(request: Request, children: list[Any]) -> list[Any]:
    """The ``children`` the viewer may view, in order, decided by the core's
    visibility rule (:func:`plinth.visibility.visible`), one call for the
    children that need the same permission."""
    by_permission: dict[str | None, list[Any]] = {}
    for child in children:
        by_permission.setdefault(page_permission(child), []).append(child)
    kept = {
        id(child)
        for permission, group in by_permission.items()
        for child in (group if permission is None else visible(request, permission, group))
    }
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


def render_panels(
    request: Request, context: Any, errors: dict[str, str] | None = None
) -> list[dict[str, Any]]:
    """The panels' HTML; a panel named in ``errors`` shows that message above it."""
    from pyramid.renderers import render as render_template

    result = []
    for panel in panels_for(request, context):
        values = panel.view(context, request)
        values.setdefault("panel", panel)
        result.append(
            {
                "name": panel.name,
                "title": panel.title,
                "error": (errors or {}).get(panel.name),
                "html": render_template(panel.template, values, request=request),
            }
        )
    return result


def resource_page(
    context: Any,
    request: Request,
    status: int = 200,
    error: str | None = None,
    preview: dict[str, Any] | None = None,
    panel_errors: dict[str, str] | None = None,
) -> Response:
    return render(
        request,
        "resource.jinja2",
        {
            "title": path_of(context),
            "path": path_of(context),
            "crumbs": breadcrumbs(request, context),
            "children": visible_children(request, context),
            "panels": render_panels(request, context, panel_errors),
            "acl_panel": acl_panel(request, context),
            "error": error,
            "preview": preview,
        },
        status,
    )


def refused(context: Any, request: Request, exc: APIError) -> Response:
    """The page again with the error, and nothing of the request written."""
    context = discard_writes(request, context)
    return resource_page(context, request, exc.code, form_problems(exc))


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
        return resource_page(
            context, request, exc.code, panel_errors={panel.name: form_problems(exc)}
        )
    if isinstance(result, Response):
        return result
    return HTTPSeeOther(location=admin_path(request, context) + f"#panel-{panel.name}")
