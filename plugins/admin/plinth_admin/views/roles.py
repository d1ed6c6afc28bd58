"""The roles page: declared and stored roles; superusers change stored ones.

Changes go through the core's role services (:mod:`plinth.roles`), the
ones behind ``PUT`` and ``DELETE /@@roles/{name}``, under the same rule as
those views: only superusers change roles, as a role grants its permissions
wherever an entry names it.
"""

from __future__ import annotations

from typing import Any

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.request import Request
from pyramid.response import Response

from plinth.api import APIError, api_error, is_superuser, registered_permissions, roles, validate

from .common import admin_path, render
from .forms import discard_writes, form_post, form_problems


def roles_page(
    context: Any,
    request: Request,
    status: int = 200,
    error: str | None = None,
    form: dict[str, Any] | None = None,
) -> Response:
    found = roles.all_roles(request.db, request.registry)
    if form is None:
        editing = next(
            (r for r in found if r.name == request.GET.get("edit") and r.source == "stored"), None
        )
        form = (
            {
                "name": editing.name,
                "title": editing.title,
                "permissions": sorted(editing.permissions),
            }
            if editing is not None
            else {"name": "", "title": "", "permissions": []}
        )
    return render(
        request,
        "roles.jinja2",
        {
            "title": "Roles",
            "roles": [r.as_dict() for r in found],
            "can_change": is_superuser(request),
            "form": form,
            "error": error,
            "permissions": list(registered_permissions(request.registry)),
        },
        status,
    )


@form_post
def roles_post(context: Any, request: Request) -> Response:
    name = request.POST.get("name", "").strip()
    form: dict[str, Any] = {
        "name": name,
        "title": request.POST.get("title", ""),
        "permissions": request.POST.getall("permissions"),
    }
    actor, request_id = request.authenticated_userid, request.request_id
    try:
        if not is_superuser(request):
            raise api_error(403, "forbidden", "Only superusers change roles.")
        action = request.POST.get("do")
        if action == "save":
            if not form["permissions"]:
                raise api_error(400, "invalid_request", "Choose at least one permission.")
            body = validate(
                roles.ROLE_BODY_SCHEMA, {"title": form["title"], "permissions": form["permissions"]}
            )
            roles.save_role(
                request.db,
                request.registry,
                name,
                body["permissions"],
                body["title"],
                actor,
                request_id,
            )
        elif action == "delete":
            roles.delete_role(request.db, request.registry, name, actor, request_id)
        else:
            raise api_error(400, "invalid_request", "Unknown action.")
    except APIError as exc:
        context = discard_writes(request, context)
        # A refused delete leaves the form as it was, not filled with the role.
        shown = form if request.POST.get("do") == "save" else None
        return roles_page(context, request, exc.code, form_problems(exc), shown)
    return HTTPSeeOther(location=admin_path(request, view="roles"))
