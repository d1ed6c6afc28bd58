"""The core's own views: home, health, readiness, OpenAPI, docs, metrics, ACLs.

The JSON views are declared with their OpenAPI operations in :mod:`plinth.coreapi`.
"""

from __future__ import annotations

from datetime import datetime
from importlib.resources import files
from typing import Any

import swagger_ui_bundle
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pyramid.request import Request
from pyramid.response import FileResponse, Response
from pyramid.security import NO_PERMISSION_REQUIRED
from sqlalchemy import select, text

from . import __version__, acladmin, schema
from .acl import path_of
from .audit import AuditEntry
from .errors import api_error
from .interfaces import IReadEngine
from .openapi import build_document
from .paging import PAGING, cursor_after, page, page_limit
from .plugins import disabled_plugins
from .preconditions import check_if_match
from .queryparams import QueryParameter, query_error
from .resources import Root
from .security import effective_principals, is_superuser, superuser_among
from .services import get_service
from .tweens import DOCS_CSP

# Reading /metrics and the details of /ready (granted on the root).
MONITOR_PERMISSION = "plinth.metrics"


def home(context: Root, request: Request) -> dict[str, Any]:
    """Enabled plugins by name to anyone; versions and disabled plugins only to
    superusers, so that nobody learns what to attack for free."""
    plugins = request.registry.get("plinth.plugins", [])
    body: dict[str, Any] = {
        "name": "plinth",
        "plugins": [{"name": p.name} for p in plugins],
        "principals": effective_principals(request),
    }
    if is_superuser(request):
        body["version"] = __version__
        body["plugins"] = [p.as_dict() for p in plugins]
        body["disabled_plugins"] = disabled_plugins(plugins)
    return body


def health(request: Request) -> dict[str, Any]:
    return {"status": "ok"}


def may_monitor(request: Request) -> bool:
    """Whether the caller may see metrics and readiness details.

    False when that cannot be decided (the database being down, say): the
    caller then gets the minimal answer, never a 500.
    """
    try:
        return bool(request.has_permission(MONITOR_PERMISSION, request.root))
    except Exception:  # noqa: BLE001 - no details is the safe answer
        return False


def ready(request: Request) -> Any:
    """Readiness; which check failed, and why, only for monitors."""
    ok, checks, pending = readiness(request)
    detailed = may_monitor(request)
    if ok:
        return {"status": "ready", "checks": checks} if detailed else {"status": "ready"}
    if not detailed:
        raise api_error(503, "not_ready", "not ready")
    migrations = checks.get("migrations", {"ok": True})
    message = "not ready" if migrations["ok"] else migrations["message"]
    raise api_error(503, "not_ready", message, {"checks": checks, "pending": pending})


def readiness(request: Request) -> tuple[bool, dict[str, Any], list[str]]:
    registry = request.registry
    engine = get_service(registry, IReadEngine)
    checks: dict[str, Any] = {}
    ok = True
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        checks["database"] = {"ok": True}
    except Exception as exc:  # noqa: BLE001 - any failure means not ready
        checks["database"] = {"ok": False, "error": type(exc).__name__}
        ok = False
    pending: list[str] = []
    if ok:
        state = schema.migration_state(registry, engine)
        pending = state.pending
        checks["migrations"] = migrations_check(state)
        ok = checks["migrations"]["ok"]
    for name, check in sorted(registry.get("plinth.health_checks", {}).items()):
        try:
            result = check(request)
            checks[name] = {"ok": bool(result)}
        except Exception as exc:  # noqa: BLE001 - a failing check is a finding
            checks[name] = {"ok": False, "error": type(exc).__name__}
        ok = ok and checks[name]["ok"]
    return ok, checks, pending


def migrations_check(state: schema.MigrationState) -> dict[str, Any]:
    """The migrations part of ``/ready``: not ok while ``plinth db upgrade`` has work
    to do or would fail; a branch without revisions is named, but is no failure."""
    check: dict[str, Any] = {"ok": not (state.pending or state.unknown), "pending": state.pending}
    messages = []
    if state.unknown:
        check["unknown"] = state.unknown
        messages.append(schema.unknown_revisions_hint(state.unknown))
    if state.pending:
        messages.append(
            "migrations pending for " + ", ".join(state.pending) + ": run 'plinth db upgrade'"
        )
    if state.without_revisions:
        check["no_revisions"] = state.without_revisions
        messages += [
            f"{label}: {schema.no_revisions_hint(label)}" for label in state.without_revisions
        ]
    if messages:
        check["message"] = "; ".join(messages)
    return check


def openapi(request: Request) -> dict[str, Any]:
    return build_document(request.registry)


def docs(request: Request) -> Response:
    response = FileResponse(
        str(files("plinth").joinpath("static/docs.html")), request=request, content_type="text/html"
    )
    response.headers["Content-Security-Policy"] = DOCS_CSP
    response.headers["Cache-Control"] = "no-cache"
    return response


def metrics(request: Request) -> Response:
    return Response(
        body=generate_latest(), content_type=CONTENT_TYPE_LATEST.split(";")[0], charset="utf-8"
    )


# ACL administration, on every resource -------------------------------------


def acl_get(context: Any, request: Request) -> Response:
    body = acladmin.describe(request.db, context)
    response = Response(json_body=body)
    response.etag = body["etag"]
    return response


def acl_put_view(context: Any, request: Request) -> Response:
    """``PUT @@acl``, or its preview with ``dry_run=true``."""
    return acl_put(context, request, dry_run=request.query["dry_run"])


def acl_put(context: Any, request: Request, dry_run: bool = False) -> Response:
    """Replace the stored ACL of ``context`` with ``request.validated``
    (honouring ``If-Match``), or answer what that would flip (``dry_run``)."""
    current = acladmin.etag_for(acladmin.locked_acl_state(request.db, path_of(context)))
    check_if_match(request, current)
    body = request.validated
    if dry_run:
        return Response(
            json_body=acladmin.preview_acl(
                request.db,
                request.registry,
                context,
                body["entries"],
                body.get("inherit"),
                caller=effective_principals(request),
            )
        )
    result = acladmin.replace_acl(
        request.db,
        request.registry,
        context,
        body["entries"],
        body.get("inherit"),
        request.authenticated_userid,
        request.request_id,
        caller=effective_principals(request),
    )
    response = Response(json_body=result)
    response.etag = result["etag"]
    return response


def permissions_view(context: Any, request: Request) -> dict[str, Any]:
    principal = request.query["principal"]
    permission = request.query["permission"]
    registry = request.registry
    if permission is not None and permission not in registry.get("plinth.permissions", {}):
        raise query_error("permission", "unknown permission", f"unknown permission {permission!r}")
    if principal:
        principals = principals_to_explain(request, principal)
    else:
        principal = request.authenticated_userid or "system.Everyone"
        principals = effective_principals(request)
    return {
        "resource": path_of(context),
        "principal": principal,
        "principals": principals,
        "superuser": superuser_among(registry, principals),
        "permissions": acladmin.explain(request.db, registry, context, principals, permission),
    }


def principals_to_explain(request: Request, principal: str) -> list[str]:
    """The principals ``principal`` holds, as far as the caller may know them.

    Memberships and the existence of users and groups are the directory's
    business: only superusers and holders of acl.view at the root (who read
    the audit log and @@grants anyway) learn them.  A caller with acl.view on a
    subtree may explain groups (as themselves, whether or not they exist) and
    itself, but not other users: that would tell who is in which group.
    """
    if request.has_permission("acl.view", request.root):
        principals = acladmin.expand(request.db, request.registry, principal)
        if principals is None:
            raise api_error(404, "unknown_principal", f"no such principal {principal!r}")
        return principals
    if principal == request.authenticated_userid:
        return effective_principals(request)
    if principal.startswith("group:") and acladmin.PRINCIPAL.fullmatch(principal):
        return ["system.Everyone", "system.Authenticated", principal]
    if principal in ("system.Everyone", "system.Authenticated"):
        return acladmin.expand(request.db, request.registry, principal) or [principal]
    raise api_error(
        403,
        "forbidden",
        "explaining another user's permissions needs acl.view on the root",
        {"permission": "acl.view"},
    )


def grants_view(context: Any, request: Request) -> dict[str, Any]:
    principal = request.query["principal"]
    return {"principal": principal, "grants": acladmin.grants_of(request.db, principal)}


def _query_time(request: Request, name: str) -> datetime | None:
    raw = request.query[name]
    if not raw:
        return None
    try:
        return datetime.fromisoformat(raw)
    except ValueError:
        raise query_error(
            name, "not an ISO 8601 date/time", f"{name!r} must be an ISO 8601 date or time"
        ) from None


_MOMENT = {
    "anyOf": [{"type": "string", "format": "date"}, {"type": "string", "format": "date-time"}]
}
AUDIT_QUERY = (
    *(QueryParameter(name, {"type": "string"}) for name in ("actor", "kind", "resource")),
    *(
        QueryParameter(name, _MOMENT, description="an ISO 8601 date or date and time")
        for name in ("since", "until")
    ),
    *PAGING,
)
"""The filters and paging of the audit log, for every view that shows it."""


def audit_view(context: Any, request: Request) -> dict[str, Any]:
    """A page of the audit log, filtered by :data:`AUDIT_QUERY`."""
    limit = page_limit(request)
    before = cursor_after(request, int)
    stmt = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit + 1)
    if before is not None:
        stmt = stmt.where(AuditEntry.id < before)
    params = request.query
    if params["actor"]:
        stmt = stmt.where(AuditEntry.actor == params["actor"])
    if params["kind"]:
        stmt = stmt.where(AuditEntry.kind == params["kind"])
    if params["resource"]:
        prefix = params["resource"]
        stmt = stmt.where(AuditEntry.resource.startswith(prefix, autoescape=True))
    since, until = _query_time(request, "since"), _query_time(request, "until")
    if since:
        stmt = stmt.where(AuditEntry.at >= since)
    if until:
        stmt = stmt.where(AuditEntry.at < until)
    return page(list(request.db.scalars(stmt)), limit, lambda r: r.id, AuditEntry.as_dict)


class ExplicitViewName:
    """View predicate: only match when the URL spelled the view as ``@@name``.

    Without it ``/stock/acl`` (a missing item) would show the container's ACL.
    """

    def __init__(self, value: bool, config: Any) -> None:
        self.value = value

    def text(self) -> str:
        return f"explicit_view_name = {self.value}"

    phash = text

    def __call__(self, context: Any, request: Request) -> bool:
        if not self.value:
            return True
        # and nothing after it: /stock/@@acl/extra is not the ACL
        segments = request.path_info.split("/")
        return not request.subpath and f"@@{request.view_name}" in segments


def includeme(config: Any) -> None:
    config.add_route("plinth.health", "/health")
    config.add_route("plinth.ready", "/ready")
    config.add_route("plinth.openapi", "/openapi.json")
    config.add_route("plinth.docs", "/docs")
    config.add_route("plinth.metrics", "/metrics")
    config.add_view(docs, route_name="plinth.docs", public=True, request_method=("GET", "HEAD"))
    config.declare_permission(MONITOR_PERMISSION, "read /metrics and the details of /ready")
    config.add_view(
        metrics, route_name="plinth.metrics", permission=MONITOR_PERMISSION, request_method="GET"
    )
    # Absolute paths: asset specs need pkg_resources, which cannot read
    # packages installed in editable mode.
    config.add_static_view(
        "docs/static",
        str(files("plinth").joinpath("static")),
        cache_max_age=3600,
        permission=NO_PERMISSION_REQUIRED,
    )
    config.add_static_view(
        "docs/swagger-ui",
        str(swagger_ui_bundle.swagger_ui_path),
        cache_max_age=3600,
        permission=NO_PERMISSION_REQUIRED,
    )
    config.add_view_predicate("explicit_view_name", ExplicitViewName)
