"""Plinth: a Pyramid platform extended by independently packaged plugins."""

from __future__ import annotations

import sys
from typing import Any

from pyramid.config import Configurator
from pyramid.exceptions import (
    ConfigurationConflictError,
    ConfigurationError,
    ConfigurationExecutionError,
)

__version__ = "0.1.0"


def core_settings(config: Configurator) -> None:
    """The core's own settings, validated in one place."""
    from .security import SUPERUSERS_KEY, superuser_list
    from .settings import base_url, non_empty, positive_int, word_list

    setting = config.plinth_setting
    setting("sqlalchemy.url", convert=non_empty)
    setting("plinth.plugins", "", word_list)
    setting("plinth.max_body_size", 1024 * 1024, positive_int)
    setting("plinth.idempotency_ttl", 86400, positive_int)
    setting("plinth.cors_origins", "", word_list)
    setting("plinth.public_url", "", base_url)
    setting("retry.attempts", 3, positive_int)
    setting(SUPERUSERS_KEY, "group:admins", superuser_list)


def make_configurator(settings: dict[str, Any]) -> Configurator:
    """The configured (not yet committed) Configurator for ``settings``."""
    from .settings import apply_environment

    settings = apply_environment(settings)
    settings.setdefault("tm.manager_hook", "plinth.db.request_transaction_manager")
    settings.setdefault("tm.commit_veto", "pyramid_tm.default_commit_veto")
    # Annotating the transaction would look the caller up before traversal,
    # before a context can read its data with the security version.
    settings.setdefault("tm.annotate_user", "false")
    config = Configurator(settings=settings)
    config.include(".settings")
    core_settings(config)
    config.include("pyramid_retry")
    config.include("pyramid_tm")
    # Before anything registers or looks up a shared thing by interface.
    config.include("pyramid_services")
    config.include(".resets")
    config.include(".db")
    config.include(".errors")
    config.include(".outages")
    config.include(".resources")
    config.include(".acl")
    config.include(".securityversion")
    config.include(".securitycache")
    config.include(".roles")
    config.include(".security")
    config.include(".viewsecurity")
    config.include(".validation")
    config.include(".queryparams")
    config.add_view_deriver(
        "plinth.idempotency.idempotency_deriver",
        name="idempotency",
        over="body_schema_deriver",
        under="decorated_view",
    )
    config.include(".openapi")
    config.include(".endpoints")
    config.include(".schema")
    config.include(".health")
    config.include(".deploy")
    config.include(".logs")
    config.include(".metrics")
    config.include(".cli.directives")
    config.include(".views")
    config.include(".coreapi")
    config.include(".accessviews")
    # Above pyramid_tm, so that errors raised by its commit get JSON too.
    config.include(".tweens")
    from .plugins import include_plugins

    include_plugins(config, settings_list(config))
    return config


def settings_list(config: Configurator) -> list[str]:
    return list(config.registry.settings["plinth.plugins"])


def make_app(settings: dict[str, Any]) -> Any:
    config = make_configurator(settings)
    return config.make_wsgi_app()


def error_line(exc: ConfigurationError) -> str:
    """The one line that says why ``exc`` stops start-up.

    Pyramid wraps an error raised while the configuration commits (a view
    deriver refusing a view, say) with where it was declared; the cause is
    what the operator needs.
    """
    if isinstance(exc, ConfigurationExecutionError):
        return str(exc.evalue).splitlines()[0]
    if isinstance(exc, ConfigurationConflictError):
        # Which thing, and where each claim was made: enough to find both plugins.
        claims = []
        for discriminator, infos in exc._conflicts.items():
            places = " and ".join(
                f"{getattr(i, 'file', '?')}:{getattr(i, 'line', '?')}" for i in infos
            )
            claims.append(f"{discriminator!r} ({places})")
        return "conflicting configuration: " + "; ".join(claims)
    return str(exc).splitlines()[0]


def main(global_config: dict[str, Any] | None, **settings: Any) -> Any:
    """The paste ``app_factory``: a configuration error stops start-up with one line."""
    try:
        return make_app(settings)
    except ConfigurationError as exc:
        sys.exit(f"plinth: {error_line(exc)}")
