"""Every view is guarded, or says where it is declared that anyone may call it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pyramid.exceptions import ConfigurationError
from pyramid.httpexceptions import default_exceptionresponse_view
from pyramid.security import NO_PERMISSION_REQUIRED
from pyramid.static import static_view

from plinth.viewsecurity import view_name

# The views anyone may call, each declared so with public=True by its own package.
EXPECTED_PUBLIC = {
    "plinth.views.home",
    "plinth.views.health",
    "plinth.views.ready",
    "plinth.views.openapi",
    "plinth.views.docs",
    "plinth_auth.views.issue_token",
    "plinth_admin.views.signin.sign_in",
    "plinth_admin.views.site.to_console",
}
NO_PERMISSION = (
    "has no permission: give it permission='plugin.permission', permits=..., "
    "or public=True if anyone may call it"
)


def registered_views(registry: Any) -> list[tuple[Any, Any]]:
    """(introspectable, permission) of each view a request can reach (no error views)."""
    found = []
    for view in registry.introspector.get_category("views"):
        intr = view["introspectable"]
        if intr["exception_only"] or intr["callable"] is default_exceptionresponse_view:
            continue
        permissions = [r["value"] for r in view["related"] if r.category_name == "permissions"]
        found.append((intr, permissions[0] if permissions else None))
    return found


def test_every_view_has_a_permission_or_says_it_is_public(plinth_registry: Any) -> None:
    public = set()
    for intr, permission in registered_views(plinth_registry):
        callable_ = intr["callable"]
        name = view_name(callable_)
        if isinstance(callable_, static_view):
            assert permission == NO_PERMISSION_REQUIRED, name
        elif intr.get("public"):
            assert permission in (None, NO_PERMISSION_REQUIRED), name
            public.add(name)
        else:
            guarded = permission not in (None, NO_PERMISSION_REQUIRED)
            assert guarded or intr.get("permits"), name
    assert len(registered_views(plinth_registry)) > 30
    assert public == EXPECTED_PUBLIC


def make_config() -> Any:
    from plinth import make_configurator

    config = make_configurator({"sqlalchemy.url": "sqlite://", "plinth.plugins": ""})
    config.add_route("unguarded", "/unguarded")
    return config


def unguarded(request: Any) -> dict[str, str]:
    return {"secret": "data"}


@pytest.mark.parametrize("permission", [None, NO_PERMISSION_REQUIRED])
def test_view_without_permission_stops_start_up_in_one_line(permission: Any) -> None:
    from plinth import error_line

    config = make_config()
    config.add_view(unguarded, route_name="unguarded", renderer="json", permission=permission)
    with pytest.raises(ConfigurationError) as raised:
        config.make_wsgi_app()
    assert error_line(raised.value) == f"view {view_name(unguarded)} {NO_PERMISSION}"


def test_public_view_with_a_permission_stops_start_up() -> None:
    from plinth import error_line

    config = make_config()
    config.add_view(
        unguarded, route_name="unguarded", renderer="json", public=True, permission="acl.view"
    )
    with pytest.raises(ConfigurationError) as raised:
        config.make_wsgi_app()
    assert "is public=True and also has permission 'acl.view'" in error_line(raised.value)


def test_public_view_answers_anyone() -> None:
    from webtest import TestApp

    config = make_config()
    config.add_view(unguarded, route_name="unguarded", renderer="json", public=True)
    assert TestApp(config.make_wsgi_app()).get("/unguarded").json == {"secret": "data"}


PLUGIN = """
def forgotten(request):
    return {}


def includeme(config):
    config.add_route("forgotten", "/forgotten")
    config.add_view(forgotten, route_name="forgotten", renderer="json")
"""


def test_a_plugin_view_without_permission_stops_main_with_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from plinth import main

    (tmp_path / "plinth_forgetful.py").write_text(PLUGIN)
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(SystemExit) as raised:
        main(
            {},
            **{
                "sqlalchemy.url": f"sqlite:///{tmp_path / 'x.sqlite'}",
                "plinth.plugins": "plinth_forgetful",
            },
        )
    assert str(raised.value) == f"plinth: view plinth_forgetful.forgotten {NO_PERMISSION}"
