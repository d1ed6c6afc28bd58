"""The ACL forms: add, move and remove entries, stop or resume inheriting.

Every form posts to one view, ``@@acl-edit``, which first answers with a
preview of what the change flips (the dry run of ``PUT @@acl``), then saves
it when the preview's confirm button sends the same fields back.  The page's
ETag goes along, so that a change made by someone else in between is
refused, not overwritten.
"""

from __future__ import annotations

from typing import Any

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.request import Request
from pyramid.response import Response

from plinth.api import (
    APIError,
    acl_put,
    acladmin,
    api_error,
    effective_principals,
    path_of,
    validate,
)

from .common import admin_path
from .forms import form_post
from .pages import refused, resource_page


def _stored(request: Request, context: Any) -> tuple[list[dict[str, str]], bool]:
    """The current stored entries and inherit flag, after the version check."""
    state = acladmin.acl_state(request.db, path_of(context))
    if request.POST.get("etag") != acladmin.etag_for(state):
        raise api_error(
            412,
            "precondition_failed",
            "The ACL changed since this page was loaded: look at it again before changing it.",
        )
    acl = acladmin.describe(request.db, context)
    entries = [
        {"action": e["action"], "principal": e["principal"], "permission": e["permission"]}
        for e in acl["entries"]
    ]
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
    entry = {
        "action": request.POST.get("action", ""),
        "principal": request.POST.get("principal", "").strip(),
        "permission": request.POST.get("permission", ""),
    }
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
EDIT_FIELDS = (
    "edit",
    "etag",
    "action",
    "principal",
    "permission",
    "position",
    "direction",
    "inherit",
)


def _body(request: Request, entries: Entries, inherit: bool | None) -> dict[str, Any]:
    body: dict[str, Any] = {"entries": entries}
    if inherit is not None:
        body["inherit"] = inherit
    return validate(acladmin.ACL_BODY_SCHEMA, body)


def _preview(
    request: Request, context: Any, entries: Entries, inherit: bool | None
) -> list[dict[str, Any]]:
    """What ``PUT @@acl?dry_run=true`` answers: the same validation and
    delegation checks as the write, then the decisions the change flips."""
    body = _body(request, entries, inherit)
    result = acladmin.preview_acl(
        request.db,
        request.registry,
        context,
        body["entries"],
        body.get("inherit"),
        caller=effective_principals(request),
    )
    return list(result["changes"])


def _replace(request: Request, context: Any, entries: Entries, inherit: bool | None = None) -> None:
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
        return refused(context, request, exc)
    preview = {
        "changes": changes,
        "entries": entries,
        "inherit": inherit,
        "fields": {name: request.POST[name] for name in EDIT_FIELDS if name in request.POST},
    }
    return resource_page(context, request, preview=preview)
