"""plinth-auth: users, groups, API tokens; the identity provider of the core."""

from __future__ import annotations

from typing import Any

requires: tuple[str, ...] = ()


def includeme(config: Any) -> None:
    from plinth.api import ILoginLimiter, non_empty, positive_int

    setting = config.plinth_setting
    setting("auth.token_ttl", 12 * 3600, positive_int)
    setting("auth.login_attempts", 10, positive_int)
    setting("auth.client_login_attempts", 10, positive_int)
    setting("auth.login_window", 300, positive_int)
    setting("auth.ratelimit_storage", "memory://", non_empty)

    from .identity import TokenIdentityProvider
    from .ratelimit import LoginLimiter, failure_policy

    setting("auth.ratelimit_failure", "open", failure_policy)

    limiter = LoginLimiter.from_settings(config.registry.settings)
    config.register_service(limiter, ILoginLimiter)
    # State kept outside the database: the test fixtures reset it between tests.
    config.add_test_reset("auth.login_limits", limiter.reset)
    config.set_identity_provider(TokenIdentityProvider())
    config.declare_permission("auth.manage", "administer users, groups and tokens")
    config.declare_permission("auth.self", "see your own identity and tokens")
    config.add_tree_child("auth", "plinth_auth.resources.AuthContainer")
    config.add_migrations("auth", "plinth_auth:migrations/versions")
    # Their migration's triggers bump the security version (plinth.securityversion).
    for table in ("auth_users", "auth_groups", "auth_memberships", "auth_tokens"):
        config.declare_security_table(table)
    config.add_cli_command("plinth_auth.cli.users")
    config.add_cli_command("plinth_auth.cli.tokens")
    config.add_deploy_check(
        "auth.superuser_passwords", "plinth_auth.deploy.check_superuser_passwords"
    )
    config.add_deploy_check("auth.ratelimit_storage", "plinth_auth.deploy.check_ratelimit_storage")
    config.include(".views")
    config.include(".subscribers")
