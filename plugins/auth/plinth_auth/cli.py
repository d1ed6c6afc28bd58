"""``plinth users ...`` and ``plinth tokens ...``."""

from __future__ import annotations

import os
import secrets
import sys
from datetime import datetime
from typing import Any

import click
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from plinth.api import Environment, clock, echo_json, echo_table, json_option, pass_env

from . import services
from .models import Token, User
from .passwords import PasswordRejected


def _actor(env: Environment) -> services.Actor:
    return services.Actor(env.operator)


@click.group()
def users() -> None:
    """Create, list, disable, enable and delete users."""


@users.command("add")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="read the password from standard input")
@click.option("--group", "groups", multiple=True, help="a group to put the user in (repeat)")
@pass_env
def users_add(env: Environment, name: str, password_stdin: bool, groups: tuple[str, ...]) -> None:
    """Create NAME, or update its password and groups."""
    password = None
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    try:
        with env.session() as db:
            user, created = services.save_user(
                db,
                env.registry,
                name,
                _actor(env),
                password=password,
                groups=list(groups) if groups else None,
            )
            verb = "created" if created else "updated"
            click.echo(
                f"{verb} user {user.name} (groups: "
                f"{', '.join(g.name for g in user.groups) or 'none'})"
            )
    except (PasswordRejected, services.AuthError) as exc:
        raise click.ClickException(getattr(exc, "message", str(exc))) from None


@users.command("list")
@json_option
@pass_env
def users_list(env: Environment, as_json: bool) -> None:
    """List users with their state and groups."""
    with env.session(write=False) as db:
        found = [
            {
                "name": u.name,
                "active": u.active,
                "groups": [g.name for g in u.groups],
                "created_at": u.created_at,
            }
            for u in db.scalars(select(User).options(selectinload(User.groups)).order_by(User.name))
        ]
    if as_json:
        echo_json(found)
        return
    echo_table(
        ("name", "state", "groups"),
        [(u["name"], "active" if u["active"] else "disabled", u["groups"]) for u in found],
    )


def _set_active(env: Environment, name: str, active: bool) -> None:
    try:
        with env.session() as db:
            if services.user_by_name(db, name) is None:
                raise click.ClickException(f"no user {name!r}")
            services.save_user(db, env.registry, name, _actor(env), active=active)
    except services.AuthError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(f"{'enabled' if active else 'disabled'} user {name}")


@users.command("enable")
@click.argument("name")
@pass_env
def users_enable(env: Environment, name: str) -> None:
    """Enable NAME again (its old tokens stay revoked)."""
    _set_active(env, name, True)


@users.command("disable")
@click.argument("name")
@pass_env
def users_disable(env: Environment, name: str) -> None:
    """Disable NAME: its tokens are revoked at once."""
    _set_active(env, name, False)


@users.command("delete")
@click.argument("name")
@click.option(
    "--keep-grants", is_flag=True, help="keep the ACL entries naming user:NAME (removed by default)"
)
@click.option(
    "--remove-grants", is_flag=True, hidden=True, help="the default now; accepted for old scripts"
)
@pass_env
def users_delete(env: Environment, name: str, keep_grants: bool, remove_grants: bool) -> None:
    """Delete NAME, its tokens and the ACL entries naming it (audited)."""
    if keep_grants and remove_grants:
        raise click.UsageError("--keep-grants and --remove-grants contradict each other")
    try:
        with env.session() as db:
            user = services.user_by_name(db, name)
            if user is None:
                raise click.ClickException(f"no user {name!r}")
            removed = services.delete_user(db, env.registry, user, _actor(env), keep_grants)
    except services.AuthError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(
        f"deleted user {name}" + ("" if keep_grants else f" and {removed} ACL entr(ies) naming it")
    )


@users.command("ensure-admin")
@click.option("--name", default="admin", show_default=True)
@pass_env
def users_ensure_admin(env: Environment, name: str) -> None:
    """Create a development admin in group admins, once.

    The password comes from PLINTH_ADMIN_PASSWORD, or is generated and printed
    once; there is no built-in default.
    """
    with env.session() as db:
        if services.user_by_name(db, name) is not None:
            click.echo(f"admin user {name!r} exists already; its password is unchanged")
            return
        password = os.environ.get("PLINTH_ADMIN_PASSWORD") or secrets.token_urlsafe(12)
        try:
            services.save_user(
                db, env.registry, name, _actor(env), password=password, groups=["admins"]
            )
        except (PasswordRejected, services.AuthError) as exc:
            raise click.ClickException(f"PLINTH_ADMIN_PASSWORD is not acceptable: {exc}") from None
    if os.environ.get("PLINTH_ADMIN_PASSWORD"):
        click.echo(f"created admin user {name!r} with the password from PLINTH_ADMIN_PASSWORD")
    else:
        click.echo(f"created admin user {name!r} with password: {password}")
        click.echo("(shown once; set PLINTH_ADMIN_PASSWORD to choose it yourself)")


@click.group()
def tokens() -> None:
    """Manage API tokens."""


@tokens.command("list")
@click.option("--user", "username", default=None, help="only this user's tokens")
@click.option("--all", "everything", is_flag=True, help="also revoked and expired tokens")
@json_option
@pass_env
def tokens_list(env: Environment, username: str | None, everything: bool, as_json: bool) -> None:
    """List API tokens (never their secrets): live ones unless --all."""
    now = clock.now()
    with env.session(write=False) as db:
        stmt = (
            select(Token, User.name)
            .join(User, User.id == Token.user_id)
            .order_by(User.name, Token.created_at)
        )
        if username is not None:
            stmt = stmt.where(User.name == username)
        found: list[dict[str, Any]] = []
        for token, name in db.execute(stmt):
            expired = token.expires_at <= now
            state = "revoked" if token.revoked_at else "expired" if expired else "live"
            if state != "live" and not everything:
                continue
            found.append(
                {
                    "id": token.id,
                    "user": name,
                    "state": state,
                    "created_at": token.created_at,
                    "expires_at": token.expires_at,
                    "last_used_at": token.last_used_at,
                }
            )
    if as_json:
        echo_json(found)
        return
    echo_table(
        ("id", "user", "state", "created", "expires", "last used"),
        [
            (
                t["id"],
                t["user"],
                t["state"],
                _minute(t["created_at"]),
                _minute(t["expires_at"]),
                _minute(t["last_used_at"]),
            )
            for t in found
        ],
    )


def _minute(moment: datetime | None) -> str | None:
    return None if moment is None else moment.strftime("%Y-%m-%d %H:%M")


@tokens.command("revoke")
@click.argument("token_id")
@pass_env
def tokens_revoke(env: Environment, token_id: str) -> None:
    """Revoke the token TOKEN_ID."""
    with env.session() as db:
        token = db.get(Token, token_id)
        if token is None:
            raise click.ClickException(f"no token {token_id!r}")
        if not services.revoke_token(db, env.registry, token, _actor(env)):
            click.echo(f"token {token_id} was already revoked")
            return
    click.echo(f"revoked token {token_id}")
