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
from ..acl import AclEntry, AclResource, registered_permissions
from ..audit import AuditEntry
from ..errors import APIError
from ..plugins import disabled_plugins
from ..roles import all_roles, is_grantable, role_table
from ..security import superuser_among
from . import Environment, pass_env
from .table import echo_json, echo_table, json_option


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
    try:
        schema.revision(env.registry, env.engine, branch, message)
    except schema.SchemaError as exc:
        raise click.ClickException(str(exc)) from None


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
    """Show, per branch, the applied and the latest revision.

    Exits non-zero while migrations are pending or the database holds
    revisions that no installed plugin knows.
    """
    state = schema.migration_state(env.registry, env.engine)
    for label, branch in state.branches.items():
        if branch["status"] == "no revisions":
            click.echo(f"{label}: {schema.no_revisions_hint(label)}")
            continue
        mark = "pending" if branch["pending"] else "up to date"
        click.echo(f"{label}: applied {branch['applied']}, head {branch['head']} ({mark})")
    if state.unknown:
        click.echo(schema.unknown_revisions_hint(state.unknown))
    if state.pending or state.unknown:
        sys.exit(1)


@db.command("downgrade")
@click.argument("branch")
@click.confirmation_option(
    prompt="This drops the plugin's tables and their data. Go on?",
    help="do not ask for confirmation",
)
@pass_env
def db_downgrade(env: Environment, branch: str) -> None:
    """Retire BRANCH (a plugin name) for good: run all its downgrades.

    Its tables and their data go; disable or uninstall the plugin afterwards.
    The plugin must be installed, enabled or not.
    """
    try:
        schema.downgrade_to_base(env.registry, env.engine, branch)
    except schema.SchemaError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(
        f"{branch}: downgraded to base; now remove it from plinth.plugins "
        f"(and uninstall it if you like)"
    )


@db.command("forget")
@click.argument("revision")
@pass_env
def db_forget(env: Environment, revision: str) -> None:
    """Stop tracking REVISION of an uninstalled plugin; its tables stay as they are."""
    try:
        schema.forget(env.registry, env.engine, revision)
    except schema.SchemaError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"forgot revision {revision}; the tables it created are still there")


@click.command("plugins")
@pass_env
def plugins(env: Environment) -> None:
    """List enabled plugins (version, migrations) and installed-but-disabled ones."""
    enabled = env.registry.get("plinth.plugins", [])
    state: schema.MigrationState | None
    try:
        state = schema.migration_state(env.registry, env.engine)
    except Exception as exc:  # noqa: BLE001 - show what we can without a database
        state = None
        click.echo(f"(migration state unavailable: {type(exc).__name__})", err=True)
    branches = state.branches if state is not None else {}
    click.echo("enabled:")
    for info in enabled:
        branch = branches.get(info.name)
        migrations = (
            "no migrations"
            if branch is None
            else schema.no_revisions_hint(info.name)
            if branch["status"] == "no revisions"
            else "migrations pending"
            if branch["pending"]
            else "migrations applied"
        )
        click.echo(f"  {info.name} {info.version} ({migrations})")
    click.echo("installed, not enabled:")
    for item in disabled_plugins(enabled):
        click.echo(f"  {item['name']} {item['version']}")
    if state is not None and state.unknown:
        click.echo("not installed:")
        click.echo(f"  {schema.unknown_revisions_hint(state.unknown)}")


@contextmanager
def tree_root(env: Environment, write: bool) -> Iterator[tuple[Any, Session]]:
    """The root of the resource tree, as a request to the application sees it."""
    with env.session(write=write) as session:
        request = Request.blank("/")
        request.registry = env.registry
        request.__dict__["db"] = session
        scripting = prepare(request=request, registry=env.registry)
        try:
            yield scripting["root"], session
        finally:
            scripting["closer"]()


def resolve(root: Any, path: str) -> Any | None:
    try:
        return find_resource(root, path)
    except KeyError:
        return None


@contextmanager
def resource_at(env: Environment, path: str, write: bool) -> Iterator[tuple[Any, Session]]:
    with tree_root(env, write) as (root, session):
        resource = resolve(root, path)
        if resource is None:
            raise click.ClickException(f"no resource at {path!r}")
        yield resource, session


@click.group()
def acl() -> None:
    """Read, change and explain ACLs."""


@acl.command("show")
@click.argument("path")
@json_option
@pass_env
def acl_show(env: Environment, path: str, as_json: bool) -> None:
    """Show the ACL of PATH: its entries, code defaults and what it inherits."""
    with resource_at(env, path, write=False) as (resource, session):
        described = acladmin.describe(session, resource)
    if as_json:
        echo_json(described)
        return
    inherit = "inherits" if described["inherit"] else "does not inherit"
    click.echo(f"{described['resource']} ({inherit}; etag {described['etag']})")
    rows = [
        (
            described["resource"],
            e["source"],
            e["position"],
            e["action"],
            e["principal"],
            e["permission"],
        )
        for e in described["entries"] + described["defaults"]
    ]
    for inherited in described["inherited"]:
        rows += [
            (
                inherited["resource"],
                e["source"],
                e["position"],
                e["action"],
                e["principal"],
                e["permission"],
            )
            for e in inherited["entries"]
        ]
    echo_table(("resource", "source", "#", "action", "principal", "permission"), rows)


def api_message(exc: APIError) -> str:
    """An API error as the operator reads it: the messages, not ``entries/2``."""
    problems = [e.get("message", "") for e in exc.details.get("errors", [])]
    return exc.message + (": " + "; ".join(problems) if problems else "")


def echo_changes(changes: list[dict[str, Any]], as_json: bool) -> None:
    if as_json:
        echo_json({"dry_run": True, "changes": changes})
        return
    click.echo("dry run: nothing was written")
    echo_table(
        ("resource", "principal", "permission", "before", "after"),
        [
            (c["resource"], c["principal"], c["permission"], c["before"], c["after"])
            for c in changes
        ],
        empty="no decision would change",
    )


def _change(
    env: Environment, path: str, change: Any, dry_run: bool = False, as_json: bool = False
) -> None:
    with resource_at(env, path, write=not dry_run) as (resource, session):
        current = acladmin.describe(session, resource)
        entries = [
            {k: e[k] for k in ("action", "principal", "permission")} for e in current["entries"]
        ]
        entries = change(entries)
        if entries is None:
            return
        try:
            if dry_run:
                preview = acladmin.preview_acl(session, env.registry, resource, entries, None)
                echo_changes(preview["changes"], as_json)
                return
            result = acladmin.replace_acl(
                session, env.registry, resource, entries, None, env.operator
            )
        except APIError as exc:
            raise click.ClickException(api_message(exc)) from None
    if as_json:
        echo_json(result["entries"])
        return
    echo_table(
        ("#", "action", "principal", "permission"),
        [(e["position"], e["action"], e["principal"], e["permission"]) for e in result["entries"]],
    )


def check_grant(env: Environment, session: Session, principal: str, permission: str) -> None:
    """Refuse what the operator probably mistyped: an unknown principal or permission."""
    if not is_grantable(permission, env.registry, role_table(session, env.registry)):
        kind = "role" if permission.startswith("role:") else "permission"
        raise click.ClickException(
            f"unknown {kind} {permission!r} (see 'plinth roles list' and 'plinth acl explain')"
        )
    if principal in acladmin.SYSTEM_PRINCIPALS:
        return
    if not acladmin.PRINCIPAL.fullmatch(principal):
        raise click.ClickException(
            f"{principal!r} is not user:NAME, group:NAME, system.Everyone or system.Authenticated"
        )
    if acladmin.expand(session, env.registry, principal) is None:
        raise click.ClickException(
            f"no such user or group {principal!r} (--force grants it anyway)"
        )


@acl.command("grant")
@click.argument("path")
@click.argument("principal")
@click.argument("permission")
@click.option("--deny", is_flag=True, help="add a Deny entry instead of an Allow")
@click.option("--position", type=int, default=None, help="insert at this position (0 first)")
@click.option("--dry-run", is_flag=True, help="print the decisions it would flip; write nothing")
@click.option(
    "--force",
    is_flag=True,
    help="grant to a user or group that does not exist (yet), or at a path that does not resolve",
)
@json_option
@pass_env
def acl_grant(
    env: Environment,
    path: str,
    principal: str,
    permission: str,
    deny: bool,
    position: int | None,
    dry_run: bool,
    force: bool,
    as_json: bool,
) -> None:
    """Add an entry to the ACL of PATH (nothing if it is there already)."""
    entry = {
        "action": "Deny" if deny else "Allow",
        "principal": principal,
        "permission": permission,
    }
    with tree_root(env, write=False) as (root, session):
        exists = resolve(root, path) is not None
        if not force:
            check_grant(env, session, principal, permission)
            if not exists:
                raise click.ClickException(f"no resource at {path!r} (--force grants there anyway)")
    if not exists:
        if dry_run:
            raise click.ClickException(f"no resource at {path!r}: nothing to preview")
        try:
            with env.session() as session:
                entries = acladmin.stored_at(session, path)
                if entry in entries:
                    click.echo(
                        f"already granted: {path} {entry['action']} {principal} {permission}"
                    )
                    return
                entries.insert(len(entries) if position is None else position, entry)
                acladmin.replace_at_path(session, env.registry, path, entries, env.operator)
        except APIError as exc:
            raise click.ClickException(api_message(exc)) from None
        click.echo(f"granted at {path} (which does not resolve)")
        return

    def change(entries: list[dict[str, str]]) -> list[dict[str, str]] | None:
        if entry in entries:
            click.echo(
                f"already granted: {path} #{entries.index(entry)} {entry['action']} "
                f"{principal} {permission}"
            )
            return None
        entries.insert(len(entries) if position is None else position, entry)
        return entries

    _change(env, path, change, dry_run, as_json)


def resolve_or_none(env: Environment, path: str) -> Any | None:
    with tree_root(env, write=False) as (root, _):
        return resolve(root, path)


@acl.command("revoke")
@click.argument("path")
@click.argument("principal")
@click.argument("permission")
@click.option("--dry-run", is_flag=True, help="print the decisions it would flip; write nothing")
@json_option
@pass_env
def acl_revoke(
    env: Environment, path: str, principal: str, permission: str, dry_run: bool, as_json: bool
) -> None:
    """Remove the entries for PRINCIPAL and PERMISSION from the ACL of PATH.

    PATH may be a resource that no longer resolves (a deleted item, a
    disabled plugin): its stored entries are edited directly.
    """

    def kept_of(entries: list[dict[str, str]]) -> list[dict[str, str]]:
        kept = [
            e
            for e in entries
            if not (e["principal"] == principal and e["permission"] == permission)
        ]
        if len(kept) == len(entries):
            raise click.ClickException(f"no entry for {principal} {permission} at {path}")
        return kept

    if resolve_or_none(env, path) is not None:
        _change(env, path, kept_of, dry_run, as_json)
        return
    if dry_run:
        raise click.ClickException(f"no resource at {path!r}: nothing to preview")
    with env.session() as session:
        entries = acladmin.stored_at(session, path)
        if not entries:
            raise click.ClickException(f"no resource and no stored entries at {path!r}")
        acladmin.replace_at_path(session, env.registry, path, kept_of(entries), env.operator)
    click.echo(f"revoked at {path} (which does not resolve)")


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
            click.echo(
                f"{principal} is a superuser through {superuser}: every permission, "
                "whatever the entries say"
            )
        for row in acladmin.explain(session, env.registry, resource, principals, permission):
            verdict = "allowed" if row["allowed"] else "denied "
            click.echo(f"  {verdict} {row['permission']}: {row['explanation']}")


@acl.command("lint")
@click.option(
    "--fix", is_flag=True, help="remove the entries of resources that no longer resolve (audited)"
)
@pass_env
def acl_lint(env: Environment, fix: bool) -> None:
    """Report stored entries naming unknown principals, permissions or roles, and
    entries on resources that no longer resolve."""
    problems = 0
    with tree_root(env, write=fix) as (root, session):
        roles = role_table(session, env.registry)
        rows = session.scalars(select(AclEntry).order_by(AclEntry.path, AclEntry.position))
        for entry in rows:
            if not is_grantable(entry.permission, env.registry, roles):
                problems += 1
                click.echo(
                    f"{entry.path} #{entry.position}: unknown permission {entry.permission!r}"
                )
            if (
                not entry.principal.startswith("system.")
                and acladmin.expand(session, env.registry, entry.principal) is None
            ):
                problems += 1
                click.echo(f"{entry.path} #{entry.position}: unknown principal {entry.principal!r}")
        for path in session.scalars(select(AclResource.path).order_by(AclResource.path)):
            if resolve(root, path) is not None:
                continue
            if fix:
                removed = acladmin.forget_path(session, path, env.operator)
                click.echo(
                    f"{path}: removed {removed} entr(ies) of a resource that no longer resolves"
                )
            else:
                problems += 1
                count = len(acladmin.stored_at(session, path))
                click.echo(
                    f"{path}: {count} stored entr(ies) on a resource that no longer "
                    "resolves (--fix removes them)"
                )
    if problems:
        sys.exit(1)
    click.echo("no problems found")


@click.group()
def roles() -> None:
    """Roles: named sets of permissions that entries grant as role:NAME."""


@roles.command("list")
@json_option
@pass_env
def roles_list(env: Environment, as_json: bool) -> None:
    """List declared and stored roles with their permissions."""
    with env.session(write=False) as session:
        found = [r.as_dict() for r in all_roles(session, env.registry)]
    if as_json:
        echo_json(found)
        return
    echo_table(
        ("name", "source", "permissions", "title"),
        [(r["name"], r["source"], r["permissions"], r["title"]) for r in found],
    )


@click.command("audit")
@click.option("--actor", default=None, help="only entries by this actor (user:NAME, cli:NAME)")
@click.option("--resource", default=None, help="only entries on this path and below")
@click.option("--kind", default=None, help="only entries of this kind (acl.changed, ...)")
@click.option("--since", type=click.DateTime(), default=None, help="only entries from then on")
@click.option("--until", type=click.DateTime(), default=None, help="only entries before then")
@click.option("--limit", type=click.IntRange(1, 100_000), default=100, show_default=True)
@json_option
@pass_env
def audit_command(
    env: Environment,
    actor: str | None,
    resource: str | None,
    kind: str | None,
    since: datetime | None,
    until: datetime | None,
    limit: int,
    as_json: bool,
) -> None:
    """Print audit log entries, newest first (with --json one JSON object per line)."""
    with env.session(write=False) as session:
        stmt = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
        if actor is not None:
            stmt = stmt.where(AuditEntry.actor == actor)
        if resource is not None:
            stmt = stmt.where(AuditEntry.resource.startswith(resource, autoescape=True))
        if kind is not None:
            stmt = stmt.where(AuditEntry.kind == kind)
        if since is not None:
            stmt = stmt.where(AuditEntry.at >= since)
        if until is not None:
            stmt = stmt.where(AuditEntry.at < until)
        entries = [entry.as_dict() for entry in session.scalars(stmt)]
    if as_json:
        for entry in entries:
            click.echo(json.dumps(entry, default=str))
        return
    echo_table(
        ("id", "at", "actor", "kind", "resource"),
        [(e["id"], str(e["at"])[:19], e["actor"], e["kind"], e["resource"]) for e in entries],
    )
