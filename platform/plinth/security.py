"""The security policy: identity from the provider, permits from the ACL engine.

The core owns the policy; the auth plugin registers the identity provider
(:class:`plinth.interfaces.IIdentityProvider`).  Without one everybody is
``system.Everyone``.  The principals named by ``plinth.superusers`` hold every
permission everywhere, decided before any stored entry is read.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from pyramid.authorization import Authenticated, Everyone
from pyramid.interfaces import ISecurityPolicy
from pyramid.request import Request, RequestLocalCache
from pyramid.security import Allowed, Denied

from .acl import (
    Decision,
    decide,
    lineage,
    lineage_acls,
    load_stored,
    load_stored_with_version,
    path_of,
)
from .interfaces import IIdentityProvider
from .roles import request_roles
from .securitycache import request_acl_cache, set_version, version_unknown
from .services import query_service

SUPERUSERS_KEY = "plinth.superusers"
# Only users and groups: a system principal as superuser would make every
# caller one.
SUPERUSER_PRINCIPAL = re.compile(r"(user:|group:)[A-Za-z0-9._@+-]{1,150}")

# Where use_session_credential() leaves a credential for the identity provider.
SESSION_CREDENTIAL = "plinth.session_credential"


@dataclass(frozen=True)
class Identity:
    """Who the request is from: a user id and the principals it holds."""

    userid: str
    principals: frozenset[str] = field(default_factory=frozenset)
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)


def superuser_list(value: Any) -> list[str]:
    """Converter of ``plinth.superusers``: a word list of user:/group: principals."""
    from .settings import word_list

    principals = word_list(value)
    for principal in principals:
        if not SUPERUSER_PRINCIPAL.fullmatch(principal):
            raise ValueError(f"{principal!r} is not user:NAME or group:NAME")
    return principals


def superusers(registry: Any) -> frozenset[str]:
    """The principals that hold every permission everywhere."""
    return frozenset(registry.settings.get(SUPERUSERS_KEY) or ())


def superuser_among(registry: Any, principals: Iterable[str]) -> str | None:
    """The first of ``principals`` that makes its holder a superuser, or None."""
    chosen = superusers(registry)
    for principal in principals:
        if principal in chosen:
            return principal
    return None


def is_superuser(request: Request) -> bool:
    """Whether the caller of ``request`` is a superuser (``plinth.superusers``)."""
    return superuser_among(request.registry, effective_principals(request)) is not None


def resolved_userid(request: Request) -> str | None:
    """The authenticated user id if the identity is already known, else None.

    For the access log, after the request's transaction has ended: it never
    looks the identity up (that would query the database again).
    """
    policy = request.registry.queryUtility(ISecurityPolicy)
    if not isinstance(policy, PlinthSecurityPolicy):
        return None
    identity = policy.resolved_identity(request)
    return identity.userid if identity is not None else None


def effective_principals(request: Request) -> list[str]:
    identity = request.identity
    principals = [Everyone]
    if identity is not None:
        principals.append(Authenticated)
        principals.extend(sorted(identity.principals))
    return principals


def identity_provider(registry: Any) -> Any:
    """The enabled :class:`~plinth.interfaces.IIdentityProvider`, or None."""
    return query_service(registry, IIdentityProvider)


class PlinthSecurityPolicy:
    def __init__(self) -> None:
        # Pyramid asks the policy for the identity every time request.identity
        # is read; the provider's lookup runs once per request.
        self._identity_cache = RequestLocalCache(self._load_identity)

    def _load_identity(self, request: Request) -> Identity | None:
        provider = identity_provider(request.registry)
        if provider is None:
            return None
        return provider.identify(request)

    def identity(self, request: Request) -> Identity | None:
        return self._identity_cache.get_or_create(request)

    def resolved_identity(self, request: Request) -> Identity | None:
        """The identity if this request already resolved it; never looks it up."""
        identity = self._identity_cache.get(request, None)
        return identity if isinstance(identity, Identity) else None

    def forget_identity(self, request: Request) -> None:
        self._identity_cache.clear(request)

    def authenticated_userid(self, request: Request) -> str | None:
        identity = request.identity
        return identity.userid if identity is not None else None

    def permits(self, request: Request, context: Any, permission: str) -> Allowed | Denied:
        decision = explain_permission(request, context, permission)
        result_class = Allowed if decision.allowed else Denied
        result = result_class("%s", decision.explain())
        result.permission = permission  # type: ignore[attr-defined]
        return result

    def remember(self, request: Request, userid: str, **kw: Any) -> list[Any]:
        return []

    def forget(self, request: Request, **kw: Any) -> list[Any]:
        return []


def use_session_credential(request: Request, secret: str | None) -> None:
    """Let this request authenticate with ``secret`` (say, from a session cookie).

    The JSON API reads credentials from the ``Authorization`` header only, so
    that a browser's cookie can never make a cross-site request act on the
    API.  A plugin serving browser pages calls this for its own routes only
    (from its route's root factory), with the token secret its cookie
    carries; the identity provider finds it with :func:`session_credential`.
    ``None`` withdraws it.  Any identity already looked up is forgotten.
    """
    if secret is None:
        request.environ.pop(SESSION_CREDENTIAL, None)
    else:
        request.environ[SESSION_CREDENTIAL] = secret
    policy = request.registry.queryUtility(ISecurityPolicy)
    if isinstance(policy, PlinthSecurityPolicy):
        policy.forget_identity(request)


def session_credential(request: Request) -> str | None:
    """The credential handed over by :func:`use_session_credential`, if any."""
    return request.environ.get(SESSION_CREDENTIAL)


def acl_cache(request: Request) -> dict[str, Any]:
    cache = request.__dict__.get("_plinth_acl_cache")
    if cache is None:
        # Backed by the process's cache at the request's security version
        # (plinth.securitycache): decide() and the lineage rule are unchanged.
        cache = request.__dict__["_plinth_acl_cache"] = request_acl_cache(request)
    return cache


def explain_permission(
    request: Request, context: Any, permission: str, principals: list[str] | None = None
) -> Decision:
    if principals is None:
        principals = effective_principals(request)
    # Before any stored entry: no Deny and no inherit=false takes this away.
    superuser = superuser_among(request.registry, principals)
    if superuser is not None:
        return Decision(True, permission, None, superuser=superuser)
    acls = lineage_acls(context, request.db, acl_cache(request))
    return decide(acls, principals, permission, request_roles(request))


def prefetch_acls(request: Request, resources: list[Any]) -> None:
    """Load the stored ACLs of several resources' lineages in one statement,
    before checking a permission on each (a filtered listing, say)."""
    paths = sorted({path_of(r) for resource in resources for r in lineage(resource)})
    if version_unknown(request):
        # The request's security version comes in the same statement.
        version, stored = load_stored_with_version(request.db, paths)
        set_version(request, version)
        cache = acl_cache(request)
        missing = paths
    else:
        cache = acl_cache(request)
        missing = [p for p in paths if p not in cache]
        stored = load_stored(request.db, missing) if missing else {}
    for path in missing:
        cache[path] = stored.get(path, (True, []))


def view_permission_for(resource: Any) -> str | None:
    return getattr(resource, "__view_permission__", None)


def set_identity_provider(config: Any, provider: Any) -> None:
    """Directive: the plugin that turns credentials into principals.

    One per application: a second plugin setting one is a configuration
    conflict, not a silent replacement of who users are.
    """
    config.register_service(config.maybe_dotted(provider), IIdentityProvider)


def includeme(config: Any) -> None:
    config.add_directive("set_identity_provider", set_identity_provider)
    config.set_security_policy(PlinthSecurityPolicy())
