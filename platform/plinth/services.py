"""Shared things found by interface, through pyramid_services.

The core registers its engines and session factory, and plugins register
what they offer each other (the identity provider, the login limiter), with
``config.register_service(service, IThing)``; a view asks
``request.find_service(IThing)``.  Outside a request (at start-up, in a
command, in a test) :func:`query_service` finds the same registered object.
"""

from __future__ import annotations

from typing import Any

from pyramid_services import IServiceRegistry


def query_service(registry: Any, iface: Any, name: str = "") -> Any:
    """The service registered for ``iface`` (and ``name``), or None.

    For services registered as objects (``config.register_service``), which
    need no request to exist: engines, providers, limiters.  It costs one
    adapter look-up, so it suits code that has no request, or that runs once
    per request where creating the request's service container would cost more.
    """
    services = registry.queryUtility(IServiceRegistry)
    found = services.find_factory(iface, name=name) if services is not None else None
    if found is None:
        return None
    # pyramid_services wraps every factory to take (context, request); an
    # object registered as a service ignores both.
    return found.factory(None, None)


def get_service(registry: Any, iface: Any, name: str = "") -> Any:
    """Like :func:`query_service`, but a missing service is a LookupError naming it."""
    service = query_service(registry, iface, name)
    if service is None:
        raise LookupError(
            f"no service is registered for {iface.__name__}" + (f" named {name!r}" if name else "")
        )
    return service
