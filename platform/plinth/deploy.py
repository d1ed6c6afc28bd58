"""Deployment checks: what ``plinth check --deploy INI`` finds unsafe for production.

The core checks what it owns (the database, the server sections, debug
settings, secrets in a file under version control); plugins add their own
through ``config.add_deploy_check(name, check)``, where ``check(context)``
returns the problems it found as sentences (nothing when all is well).
"""

from __future__ import annotations

import configparser
import subprocess
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pyramid.settings import asbool, aslist
from sqlalchemy.engine import make_url

from .directives import register_once

DeployCheck = Callable[["DeployContext"], Iterable[str]]

# Settings that make Pyramid reload or explain itself: fine on a laptop,
# costly or revealing in production.
DEBUG_SETTINGS = (
    "pyramid.reload_templates",
    "pyramid.reload_assets",
    "pyramid.reload_all",
    "pyramid.debug_authorization",
    "pyramid.debug_notfound",
    "pyramid.debug_routematch",
    "pyramid.debug_all",
    "pyramid.prevent_http_cache",
)
SECRET_WORDS = ("password", "secret", "private_key", "api_key")


@dataclass
class DeployContext:
    """What a deployment check looks at."""

    ini_path: Path
    registry: Any
    # The ini as written, before environment overrides (to find secrets in it).
    ini: configparser.ConfigParser
    # Every [server:NAME] section, as NAME -> options.
    servers: dict[str, dict[str, str]]

    @property
    def settings(self) -> dict[str, Any]:
        """The application's settings, environment overrides applied and validated."""
        return self.registry.settings

    @property
    def app_section(self) -> dict[str, str]:
        for name in self.ini.sections():
            if name.startswith("app:"):
                return dict(self.ini.items(name, raw=True))
        return {}


@dataclass
class Finding:
    check: str
    problem: str


def add_deploy_check(config: Any, name: str, check: DeployCheck | str) -> None:
    """Directive: ``check(context)`` yields what is unsafe for production, as sentences."""
    register_once(config, "deploy_check", name, config.maybe_dotted(check), "plinth.deploy_checks")


def read_ini(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(
        defaults={"here": str(path.parent.resolve()), "__file__": str(path.resolve())},
        interpolation=None,
    )
    parser.read(path, encoding="utf-8")
    return parser


def server_sections(ini: configparser.ConfigParser) -> dict[str, dict[str, str]]:
    return {
        name.partition(":")[2]: {
            k: v for k, v in ini.items(name, raw=True) if k not in ("here", "__file__")
        }
        for name in ini.sections()
        if name.startswith("server:")
    }


def run_checks(context: DeployContext) -> list[Finding]:
    findings: list[Finding] = []
    for name, check in context.registry.get("plinth.deploy_checks", {}).items():
        try:
            problems = list(check(context))
        except Exception as exc:  # noqa: BLE001 - a broken check must not hide the others
            problems = [f"the check could not run: {type(exc).__name__}: {exc}"]
        findings.extend(Finding(name, problem) for problem in problems)
    return findings


# The core's checks ---------------------------------------------------------


def check_database(context: DeployContext) -> Iterable[str]:
    url = str(context.settings["sqlalchemy.url"])
    if url.startswith("sqlite"):
        yield (
            "sqlalchemy.url is SQLite: use PostgreSQL (set PLINTH_DATABASE_URL), which "
            "several processes share safely and which can be backed up while running"
        )


def check_proxies(context: DeployContext) -> Iterable[str]:
    if not context.servers:
        yield "no [server:...] section: nothing says how the application is served"
    for name, options in context.servers.items():
        trusted = options.get("trusted_proxy", "").strip()
        if not trusted:
            yield (
                f"[server:{name}] has no trusted_proxy: behind nginx every client has the "
                "proxy's address, so the per-client login limit locks everyone out at once"
            )
        elif trusted == "*":
            yield (
                f"[server:{name}] trusts every proxy (trusted_proxy = *): any client can "
                "forge its address with X-Forwarded-For"
            )
        if asbool(options.get("expose_tracebacks", "false")):
            yield f"[server:{name}] has expose_tracebacks on: errors show code to clients"


def check_debug(context: DeployContext) -> Iterable[str]:
    settings = context.settings
    for key in DEBUG_SETTINGS:
        if asbool(settings.get(key, "false")):
            yield f"{key} is on: turn it off in production"
    includes = aslist(settings.get("pyramid.includes", ""))
    if any(name.startswith("pyramid_debugtoolbar") for name in includes):
        yield "pyramid_debugtoolbar is included: it lets visitors run code on the server"


def tracked_by_git(path: Path) -> bool:
    try:
        # git from PATH, as the operator runs it; its exit status is the answer.
        result = subprocess.run(
            ["git", "ls-files", "--error-unmatch", path.name],  # noqa: S607
            cwd=path.parent,
            capture_output=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return result.returncode == 0


def secrets_in(section: dict[str, str]) -> list[str]:
    """The keys of ``section`` whose value holds a secret."""
    found = []
    for key, raw in section.items():
        value = raw.strip()
        if not value:
            continue
        if "://" in value:
            try:
                url = make_url(value)
            except Exception:  # noqa: BLE001, S112 - not a database URL: no password in it
                continue
            if url.password:
                found.append(key)
        elif any(word in key.lower() for word in SECRET_WORDS):
            found.append(key)
    return found


def check_secrets(context: DeployContext) -> Iterable[str]:
    keys = secrets_in(context.app_section)
    if keys and tracked_by_git(context.ini_path):
        yield (
            f"{context.ini_path.name} is under version control and holds a secret "
            f"({', '.join(sorted(keys))}): keep secrets in the environment "
            "(PLINTH_DATABASE_URL, PLINTH_A_B_C)"
        )


def includeme(config: Any) -> None:
    config.add_directive("add_deploy_check", add_deploy_check)
    config.add_deploy_check("database", check_database)
    config.add_deploy_check("proxies", check_proxies)
    config.add_deploy_check("debug", check_debug)
    config.add_deploy_check("secrets", check_secrets)
