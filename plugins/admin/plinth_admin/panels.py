"""``config.add_admin_panel``: plugins add panels to the admin console's pages.

A panel is shown on the page of every resource that is an instance of its
``context`` class, to viewers holding ``permission`` there.  ``view(context,
request)`` returns the values its Jinja2 ``template`` renders.  A panel with a
form names ``post(context, request)``, called for a POST to the page's
``@@panel`` view (CSRF-checked) after the viewer is found to hold every
``(permission, resource)`` pair ``post_permits(context, request)`` returns;
it raises :func:`plinth.errors.api_error` for bad input (the page is shown
again, with the message as the panel's ``error`` value, and nothing the
request wrote is kept), and may return a response (a redirect elsewhere);
by default the viewer goes back to the panel.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pyramid.request import Request

from plinth.api import register_once

PANELS_KEY = "admin.panels"

Permits = Callable[[Any, Request], list[tuple[str, Any]]]


@dataclass(frozen=True)
class Panel:
    name: str
    context: type
    view: Callable[[Any, Request], dict[str, Any]]
    template: str
    title: str
    permission: str | None = None
    order: int = 100
    post: Callable[[Any, Request], Any] | None = None
    post_permits: Permits | None = None


def add_admin_panel(
    config: Any,
    name: str,
    context: Any,
    view: Any,
    template: str,
    title: str,
    permission: str | None = None,
    order: int = 100,
    post: Any = None,
    post_permits: Any = None,
) -> None:
    """Directive: add the panel ``name``; two plugins adding one name conflict.

    ``template`` is an absolute file path or a path relative to a template
    search path added with ``config.add_jinja2_search_path``.
    """
    if post is not None and post_permits is None:
        from pyramid.exceptions import ConfigurationError

        raise ConfigurationError(f"admin panel {name!r} has a form but no post_permits")
    panel = Panel(
        name,
        config.maybe_dotted(context),
        config.maybe_dotted(view),
        template,
        title,
        permission,
        order,
        config.maybe_dotted(post),
        config.maybe_dotted(post_permits),
    )
    register_once(
        config,
        "admin_panel",
        name,
        panel,
        PANELS_KEY,
        title=title,
        context=panel.context,
        template=template,
    )


def panels_for(request: Request, context: Any) -> list[Panel]:
    """The panels of ``context``'s page this viewer may see, in order."""
    panels = request.registry.get(PANELS_KEY, {}).values()
    return sorted(
        (
            p
            for p in panels
            if isinstance(context, p.context)
            and (p.permission is None or request.has_permission(p.permission, context))
        ),
        key=lambda p: (p.order, p.name),
    )


def includeme(config: Any) -> None:
    config.registry.setdefault(PANELS_KEY, {})
    config.add_directive("add_admin_panel", add_admin_panel)
