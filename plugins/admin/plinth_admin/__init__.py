"""plinth-admin: the admin console at /admin/, for administrators in a browser."""

from __future__ import annotations

from typing import Any

# Signing in issues an auth token, so that revoking tokens ends sessions too.
requires: tuple[str, ...] = ("auth",)


def idle_timeout(value: Any) -> int:
    """Seconds; at least a minute, as token use is recorded once a minute."""
    seconds = int(value)
    if seconds < 60:
        raise ValueError("must be at least 60 seconds")
    return seconds


def includeme(config: Any) -> None:
    config.plinth_setting("admin.session_idle_timeout", 1800, idle_timeout)
    config.include("pyramid_jinja2")
    config.include(".panels")
    config.include(".views")
    config.include(".auth_panels")
    from plinth.api import is_enabled

    # Optional: the report pages appear when reporting is enabled.
    if is_enabled(config.registry, "reporting"):
        config.include(".report_panels")
