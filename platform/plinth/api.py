"""The public API: everything a plugin may import from the core.

A plugin imports from here (``from plinth.api import api_error``), and its
tests also from :mod:`plinth.testing` (the pytest plugin) and
:mod:`plinth.testservers`; a test of the core fails for any other import of
``plinth`` in a shipped plugin.  What a plugin registers goes through
directives on ``config`` (``declare_permission``, ``add_tree_child``,
``add_migrations``, ``register_service``, ``add_endpoint`` for a JSON view
with its OpenAPI operation, ``add_view(..., public=True)`` for others, ...),
which are not imported at all.  Anything else in the core may change without
notice.
"""

from __future__ import annotations

from . import acladmin, audit, clock, make_app, make_configurator, roles, whocan
from .acl import ALL, ROLE_PREFIX, AclEntry, path_of, registered_permissions
from .acladmin import remove_grants_of
from .audit import AuditEntry
from .cli import Environment, pass_env
from .cli.table import echo_json, echo_table, json_option
from .columns import AwareDateTime
from .db import Base, insert_missing, make_engine
from .directives import register_once
from .errors import APIError, api_error
from .interfaces import (
    IIdentityProvider,
    ILoginLimiter,
    IReadEngine,
    ISessionFactory,
    IWriteEngine,
    LimiterUnavailable,
)
from .openapi import build_document, error_response, json_body, json_response
from .paging import PAGING, cursor_after, page, page_limit
from .plugins import is_enabled
from .preconditions import IF_MATCH, check_if_match
from .queryparams import (
    QueryParameter,
    check_default,
    parse_query,
    query_error,
    query_problem,
)
from .resources import Resource, Root, root_factory
from .roles import declared_roles, stored_roles
from .security import (
    Identity,
    effective_principals,
    is_superuser,
    prefetch_acls,
    session_credential,
    superuser_among,
    superusers,
    use_session_credential,
    view_permission_for,
)
from .securitycache import cached, security_cache
from .securityversion import VERSION_COLUMN, bump_on_change, drop_bump, lock_for_write
from .services import get_service, query_service
from .settings import SettingError, non_empty, positive_int, word_list
from .urls import location, resource_location
from .validation import StrictValidator, validate
from .views import AUDIT_QUERY, acl_put, audit_view, home, ready
from .visibility import Visibility, signed_in, visible, visible_children

__all__ = [  # noqa: RUF022 - grouped by purpose, as README lists them
    # The application, for tests and embedding.
    "make_app",
    "make_configurator",
    # Errors: every 4xx and 5xx is {"status", "error", "message", "details"}.
    "APIError",
    "api_error",
    # Shared things, found by interface (pyramid_services).
    "IIdentityProvider",
    "ILoginLimiter",
    "IReadEngine",
    "ISessionFactory",
    "IWriteEngine",
    "LimiterUnavailable",
    "get_service",
    "query_service",
    # Persistence.
    "Base",
    "AwareDateTime",
    "insert_missing",
    "make_engine",
    # The time: plinth.clock.now(), which tests move with the clock fixture.
    "clock",
    # The resource tree and URLs.
    "Resource",
    "Root",
    "root_factory",
    "location",
    "resource_location",
    # Permissions, roles, identities.
    "ALL",
    "ROLE_PREFIX",
    "AclEntry",
    "path_of",
    "registered_permissions",
    "declared_roles",
    "stored_roles",
    "Identity",
    "effective_principals",
    "is_superuser",
    "superuser_among",
    "superusers",
    "prefetch_acls",
    "view_permission_for",
    "session_credential",
    "use_session_credential",
    # What a caller may see.
    "Visibility",
    "signed_in",
    "visible",
    "visible_children",
    # Security data cached per process, and the security version that keeps it true.
    "cached",
    "security_cache",
    "VERSION_COLUMN",
    "bump_on_change",
    "drop_bump",
    "lock_for_write",
    # Requests: bodies, pages of lists, preconditions.
    "StrictValidator",
    "validate",
    "check_if_match",
    "IF_MATCH",
    "cursor_after",
    "page",
    "page_limit",
    "PAGING",
    "QueryParameter",
    "check_default",
    "parse_query",
    "query_error",
    "query_problem",
    # OpenAPI fragments.
    "build_document",
    "error_response",
    "json_body",
    "json_response",
    # Settings.
    "SettingError",
    "non_empty",
    "positive_int",
    "word_list",
    # Plugins, commands, directives of one's own.
    "is_enabled",
    "Environment",
    "pass_env",
    "echo_json",
    "echo_table",
    "json_option",
    "register_once",
    # The ACL administration, audit log and core views a console renders.
    "acladmin",
    "remove_grants_of",
    "audit",
    "AuditEntry",
    "acl_put",
    "audit_view",
    "AUDIT_QUERY",
    "home",
    "ready",
    "roles",
    "whocan",
]
