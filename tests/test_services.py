"""Shared things are found by interface (pyramid_services), not by registry keys."""

from __future__ import annotations

from typing import Any

import pytest
from pyramid.exceptions import ConfigurationConflictError
from sqlalchemy.engine import Engine
from zope.interface import Interface

from plinth import make_configurator
from plinth.interfaces import IIdentityProvider, IReadEngine, ISessionFactory, IWriteEngine
from plinth.resets import run_test_resets
from plinth.services import get_service, query_service


def configurator(plugins: str = "") -> Any:
    return make_configurator({"sqlalchemy.url": "sqlite://", "plinth.plugins": plugins})


def test_the_core_registers_its_engines_and_session_factory() -> None:
    config = configurator()
    config.commit()
    read, write = (
        get_service(config.registry, IReadEngine),
        get_service(config.registry, IWriteEngine),
    )
    assert isinstance(read, Engine) and isinstance(write, Engine)
    assert read is not write and read.url == write.url
    with get_service(config.registry, ISessionFactory)() as session:
        assert session.get_bind() is read


def test_a_view_finds_a_service_by_interface() -> None:
    from webtest import TestApp

    def engine_url(request: Any) -> dict[str, str]:
        return {"url": str(request.find_service(IReadEngine).url)}

    config = configurator()
    config.add_route("engine", "/engine")
    config.add_view(engine_url, route_name="engine", renderer="json", public=True)
    assert TestApp(config.make_wsgi_app()).get("/engine").json == {"url": "sqlite://"}


def test_a_missing_service_is_none_or_a_lookup_error_naming_it() -> None:
    class INothing(Interface):
        """Registered by nobody."""

    config = configurator()
    config.commit()
    assert query_service(config.registry, INothing) is None
    assert query_service(config.registry, IIdentityProvider) is None  # no auth plugin
    with pytest.raises(LookupError, match="no service is registered for INothing named 'x'"):
        get_service(config.registry, INothing, "x")


def another_identity_provider(config: Any) -> None:
    config.set_identity_provider(object())


def test_two_plugins_setting_an_identity_provider_conflict() -> None:
    config = configurator("auth")
    config.include(another_identity_provider)
    with pytest.raises(ConfigurationConflictError):
        config.commit()


def test_test_resets_run_and_conflict_by_name() -> None:
    calls: list[str] = []
    config = configurator()
    config.add_test_reset("one", lambda: calls.append("one"))
    config.commit()
    run_test_resets(config.registry)
    assert calls == ["one"]
    config = configurator()
    config.add_test_reset("one", lambda: None)
    config.add_test_reset("one", lambda: None)
    with pytest.raises(ConfigurationConflictError):
        config.commit()
