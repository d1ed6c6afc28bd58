"""Deny by default: every view has a permission unless it is on the public list."""

from __future__ import annotations

from typing import Any

from pyramid.httpexceptions import default_exceptionresponse_view
from pyramid.security import NO_PERMISSION_REQUIRED

from plinth.security import PUBLIC_VIEWS


def view_name(view: Any) -> str:
    view = getattr(view, "__wrapped__", view)
    return f"{getattr(view, '__module__', '?')}.{getattr(view, '__qualname__', repr(view))}"


def test_every_view_has_a_permission(plinth_registry: Any) -> None:
    permits_views = plinth_registry.get("plinth.permits", set())
    introspector = plinth_registry.introspector
    missing = []
    seen = 0
    for view in introspector.get_category("views"):
        intr = view["introspectable"]
        if intr["exception_only"] or \
                intr["callable"] is default_exceptionresponse_view:
            continue  # error views render errors, they grant nothing
        seen += 1
        callable_ = intr["callable"]
        name = view_name(callable_)
        permissions = [r["value"] for r in view["related"]
                       if r.category_name == "permissions"]
        if intr.get("route_name") and str(intr["route_name"]).startswith("__"):
            # static asset views (API docs page assets)
            assert permissions == [NO_PERMISSION_REQUIRED], name
            continue
        if permissions and permissions != [NO_PERMISSION_REQUIRED]:
            continue
        if callable_ in permits_views:
            continue  # permissions computed from the request body (permits=)
        if name not in PUBLIC_VIEWS:
            missing.append(name)
    assert seen > 30
    assert missing == [], f"views without a permission: {missing}"


def test_public_list_is_short_and_real(plinth_registry: Any) -> None:
    names = {view_name(v["introspectable"]["callable"])
             for v in plinth_registry.introspector.get_category("views")}
    assert names >= PUBLIC_VIEWS
    assert len(PUBLIC_VIEWS) <= 8


def test_view_without_permission_is_denied(build_app: Any) -> None:
    from webtest import TestApp

    from plinth import make_configurator, schema

    def unguarded(request: Any) -> dict[str, str]:
        return {"secret": "data"}

    config = make_configurator({"sqlalchemy.url": "sqlite://", "plinth.plugins": ""})
    config.add_route("unguarded", "/unguarded")
    config.add_view(unguarded, route_name="unguarded", renderer="json")
    app = config.make_wsgi_app()
    schema.upgrade(app.registry, app.registry["plinth.engine"])
    response = TestApp(app).get("/unguarded", status=401)
    assert "secret" not in response.text
