"""The core's commands: db, plugins, acl, audit."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import click
from pyramid.request import Request
from pyramid.scripting import prepare
from pyramid.traversal import find_resource
from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import acladmin, schema
from ..acl import ALL, AclEntry, registered_permissions
from ..audit import AuditEntry
from ..errors import APIError
from ..plugins import disabled_plugins
from ..security import superuser_among
from . import Environment, pass_env


def echo_json(value: Any) -> None:
    click.echo(json.dumps(value, indent=2, default=str))


@click.group()
def db() -> None:
    """Database schema: apply and inspect migrations."""


@db.command("upgrade")
@pass_env
def db_upgrade(env: Environment) -> None:
    """Apply the migrations of the core and every enabled plugin."""
    try:
        schema.upgrade(env.registry, env.engine)
    except schema.SchemaError as exc:
        raise click.ClickException(str(exc)) from None
    for label, state in schema.branch_state(env.registry, env.engine).items():
        click.echo(f"{label}: at {state['applied']}")


@db.command("revision")
@click.argument("branch")
@click.option("-m", "--message", required=True, help="what the revision does")
@pass_env
def db_revision(env: Environment, branch: str, message: str) -> None:
    """Write a new revision for BRANCH (a plugin name) from the models."""
    if branch not in env.registry.get("plinth.migrations", {}):
        raise click.ClickException(f"no migration branch {branch!r}: is the plugin enabled?")
    schema.revision(env.registry, env.engine, branch, message)


@db.command("purge")
@pass_env
def db_purge(env: Environment) -> None:
    """Delete expired Idempotency-Key records (run it daily from cron)."""
    from ..idempotency import purge

    with env.session() as session:
        removed = purge(session, env.settings["plinth.idempotency_ttl"])
    click.echo(f"removed {removed} expired idempotency key(s)")


@db.command("current")
@pass_env
def db_current(env: Environment) -> None:
    """Show, per branch, the applied and the latest revision."""
    pending = False
    for label, state in schema.branch_state(env.registry, env.engine).items():
        mark = "pending" if state["pending"] else "up to date"
        pending = pending or state["pending"]
        click.echo(f"{label}: applied {state['applied']}, head {state['head']} ({mark})")
    if pending:
        sys.exit(1)


@click.command("plugins")
@pass_env
def plugins(env: Environment) -> None:
    """List enabled plugins (version, migrations) and installed-but-disabled ones."""
    enabled = env.registry.get("plinth.plugins", [])
    try:
        state = schema.branch_state(env.registry, env.engine)
    except Exception as exc:  # noqa: BLE001 - show what we can without a database
        state = {}
        click.echo(f"(migration state unavailable: {type(exc).__name__})", err=True)
    click.echo("enabled:")
    for info in enabled:
        branch = state.get(info.name)
        migrations = ("no migrations" if branch is None else
                      "migrations pending" if branch["pending"] else "migrations applied")
        click.echo(f"  {info.name} {info.version} ({migrations})")
    click.echo("installed, not enabled:")
    for item in disabled_plugins(enabled):
        click.echo(f"  {item['name']} {item['version']}")


@contextmanager
def resource_at(env: Environment, path: str, write: bool) -> Iterator[tuple[Any, Session]]:
    with env.session(write=write) as session:
        request = Request.blank("/")
        request.registry = env.registry
        request.__dict__["db"] = session
        scripting = prepare(request=request, registry=env.registry)
        try:
            try:
                resource = find_resource(scripting["root"], path)
            except KeyError:
                raise click.ClickException(f"no resource at {path!r}") from None
            yield resource, session
        finally:
            scripting["closer"]()


@click.group()
def acl() -> None:
    """Read, change and explain ACLs."""


@acl.command("show")
@click.argument("path")
@pass_env
def acl_show(env: Environment, path: str) -> None:
    """Show the ACL of PATH and what it inherits."""
    with resource_at(env, path, write=False) as (resource, session):
        echo_json(acladmin.describe(session, resource))


def _change(env: Environment, path: str, change: Any) -> None:
    with resource_at(env, path, write=True) as (resource, session):
        current = acladmin.describe(session, resource)
        entries = [{k: e[k] for k in ("action", "principal", "permission")}
                   for e in current["entries"]]
        entries = change(entries)
        try:
            result = acladmin.replace_acl(session, env.registry, resource, entries, None,
                                          env.operator)
        except APIError as exc:
            raise click.ClickException(f"{exc.message} {json.dumps(exc.details)}") from None
        echo_json(result["entries"])


@acl.command("grant")
@click.argument("path")
@click.argument("principal")
@click.argument("permission")
@click.option("--deny", is_flag=True, help="add a Deny entry instead of an Allow")
@click.option("--position", type=int, default=None, help="insert at this position (0 first)")
@pass_env
def acl_grant(env: Environment, path: str, principal: str, permission: str, deny: bool,
              position: int | None) -> None:
    """Add an entry to the ACL of PATH."""
    entry = {"action": "Deny" if deny else "Allow", "principal": principal,
             "permission": permission}

    def change(entries: list[dict[str, str]]) -> list[dict[str, str]]:
        entries.insert(len(entries) if position is None else position, entry)
        return entries

    _change(env, path, change)


@acl.command("revoke")
@click.argument("path")
@click.argument("principal")
@click.argument("permission")
@pass_env
def acl_revoke(env: Environment, path: str, principal: str, permission: str) -> None:
    """Remove the entries for PRINCIPAL and PERMISSION from the ACL of PATH."""

    def change(entries: list[dict[str, str]]) -> list[dict[str, str]]:
        kept = [e for e in entries
                if not (e["principal"] == principal and e["permission"] == permission)]
        if len(kept) == len(entries):
            raise click.ClickException(f"no entry for {principal} {permission} at {path}")
        return kept

    _change(env, path, change)


@acl.command("explain")
@click.argument("path")
@click.argument("principal")
@click.argument("permission", required=False)
@pass_env
def acl_explain(env: Environment, path: str, principal: str, permission: str | None) -> None:
    """Explain which entry allows or denies PRINCIPAL each permission at PATH."""
    if permission is not None and permission not in registered_permissions(env.registry):
        raise click.ClickException(f"unknown permission {permission!r}")
    with resource_at(env, path, write=False) as (resource, session):
        principals = acladmin.expand(session, env.registry, principal)
        if principals is None:
            raise click.ClickException(f"no such principal {principal!r}")
        click.echo(f"{principal} holds: {', '.join(principals)}")
        superuser = superuser_among(env.registry, principals)
        if superuser is not None:
            click.echo(f"{principal} is a superuser through {superuser}: every permission, "
                       "whatever the entries say")
        for row in acladmin.explain(session, env.registry, resource, principals, permission):
            verdict = "allowed" if row["allowed"] else "denied "
            click.echo(f"  {verdict} {row['permission']}: {row['explanation']}")


@acl.command("lint")
@pass_env
def acl_lint(env: Environment) -> None:
    """Report stored entries naming unknown principals or permissions."""
    permissions = registered_permissions(env.registry)
    problems = 0
    with env.session(write=False) as session:
        rows = session.scalars(select(AclEntry).order_by(AclEntry.path, AclEntry.position))
        for entry in rows:
            if entry.permission != ALL and entry.permission not in permissions:
                problems += 1
                click.echo(f"{entry.path} #{entry.position}: unknown permission "
                           f"{entry.permission!r}")
            if not entry.principal.startswith("system.") and \
                    acladmin.expand(session, env.registry, entry.principal) is None:
                problems += 1
                click.echo(f"{entry.path} #{entry.position}: unknown principal "
                           f"{entry.principal!r}")
    if problems:
        sys.exit(1)
    click.echo("no problems found")


@click.command("audit")
@click.option("--since", type=click.DateTime(), default=None, help="only entries from then on")
@click.option("--kind", default=None, help="only entries of this kind")
@click.option("--limit", type=int, default=100, show_default=True)
@pass_env
def audit_command(env: Environment, since: datetime | None, kind: str | None,
                  limit: int) -> None:
    """Print audit log entries, newest first, one JSON object per line."""
    with env.session(write=False) as session:
        stmt = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
        if since is not None:
            stmt = stmt.where(AuditEntry.at >= since)
        if kind is not None:
            stmt = stmt.where(AuditEntry.kind == kind)
        for entry in session.scalars(stmt):
            click.echo(json.dumps(entry.as_dict(), default=str))
