"""The admin console's route, static files, pages and error pages."""

from __future__ import annotations

from importlib.resources import files
from typing import Any

from pyramid.httpexceptions import HTTPException, HTTPForbidden, HTTPNotFound
from pyramid.security import NO_PERMISSION_REQUIRED

from plinth.api import AUDIT_QUERY, Root

from . import acl_forms, errors, pages, roles, signin, site
from .common import ROUTE, STATIC, add_request_methods, console_root


def includeme(config: Any) -> None:
    config.add_jinja2_search_path(str(files("plinth_admin").joinpath("templates")))
    add_request_methods(config)
    # Before the console's route, which would otherwise take these paths.
    config.add_static_view(
        STATIC,
        str(files("plinth_admin").joinpath("static")),
        cache_max_age=3600,
        permission=NO_PERMISSION_REQUIRED,
    )
    config.add_route(ROUTE, "/admin/*traverse", factory=console_root)
    # "/admin" as typed in an address bar: the console lives at "/admin/".
    config.add_route(ROUTE + ".bare", "/admin")
    config.add_view(site.to_console, route_name=ROUTE + ".bare", public=True)
    add = config.add_view
    add(
        signin.sign_in,
        route_name=ROUTE,
        context=Root,
        name="signin",
        request_method="POST",
        public=True,
    )
    add(
        signin.sign_out,
        route_name=ROUTE,
        context=Root,
        name="signout",
        request_method="POST",
        permits=signin.signed_in,
    )
    add(
        pages.resource_page,
        route_name=ROUTE,
        name="",
        request_method="GET",
        permits=pages.page_permits,
    )
    add(
        acl_forms.acl_edit,
        route_name=ROUTE,
        name="acl-edit",
        request_method="POST",
        permission="acl.manage",
    )
    add(
        pages.panel_post,
        route_name=ROUTE,
        name="panel",
        request_method="POST",
        permits=pages.panel_permits,
    )
    add(
        site.audit_page,
        route_name=ROUTE,
        context=Root,
        name="audit",
        request_method="GET",
        permission="acl.view",
        query=AUDIT_QUERY,
    )
    add(
        roles.roles_page,
        route_name=ROUTE,
        context=Root,
        name="roles",
        request_method="GET",
        permission="acl.view",
    )
    add(
        roles.roles_post,
        route_name=ROUTE,
        context=Root,
        name="roles",
        request_method="POST",
        permission="acl.manage",
    )
    add(
        site.plugins_page,
        route_name=ROUTE,
        context=Root,
        name="plugins",
        request_method="GET",
        permission="acl.view",
    )
    for context, view in (
        (HTTPForbidden, errors.forbidden),
        (HTTPNotFound, errors.not_found),
        (HTTPException, errors.http_error),
    ):
        config.add_exception_view(view, context=context, route_name=ROUTE)
