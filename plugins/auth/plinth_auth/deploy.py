"""The auth plugin's deployment checks (``plinth check --deploy INI``).

Superusers' passwords are checked against the common-password list by
verifying each listed password against the stored argon2 hash: there is no
faster way, by design.  A verification takes tens of milliseconds, so the
list stays short (the ~150 passwords shipped in ``common-passwords.txt``) and
at most MAX_SUPERUSERS superusers are checked; more than that is reported too.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from importlib.resources import files
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from plinth.api import IReadEngine, get_service, word_list

from .models import Group, User, memberships
from .passwords import verify_password

MAX_SUPERUSERS = 10
DEFAULT_SUPERUSERS = "group:admins"


@lru_cache(maxsize=1)
def listed_passwords() -> tuple[str, ...]:
    """The common-password list in file order (most tried first where it matters)."""
    text = files("plinth_auth").joinpath("common-passwords.txt").read_text("utf-8")
    return tuple(
        line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")
    )


def superusers(db: Session, principals: list[str]) -> list[User]:
    """Active users holding any of ``principals`` (``user:NAME`` or ``group:NAME``)."""
    names = [p.partition(":")[2] for p in principals if p.startswith("user:")]
    groups = [p.partition(":")[2] for p in principals if p.startswith("group:")]
    in_groups = (
        select(memberships.c.user_id)
        .join(Group, Group.id == memberships.c.group_id)
        .where(Group.name.in_(groups))
    )
    stmt = select(User).where(
        User.active.is_(True), or_(User.name.in_(names), User.id.in_(in_groups))
    )
    return list(db.scalars(stmt.order_by(User.name)))


def common_password_of(user: User) -> bool:
    return any(verify_password(user.password_hash, password) for password in listed_passwords())


def check_superuser_passwords(context: Any) -> Iterable[str]:
    principals = word_list(context.settings.get("plinth.superusers", DEFAULT_SUPERUSERS))
    try:
        with Session(get_service(context.registry, IReadEngine)) as db:
            users = superusers(db, principals)
    except Exception as exc:  # noqa: BLE001 - any database failure: say what it was
        yield (
            f"cannot read the superusers from the database ({type(exc).__name__}): "
            "run the check where the database is reachable and migrated"
        )
        return
    if len(users) > MAX_SUPERUSERS:
        yield (
            f"{len(users)} superusers ({', '.join(principals)}): only the first "
            f"{MAX_SUPERUSERS} by name were checked for common passwords; keep fewer"
        )
    for user in users[:MAX_SUPERUSERS]:
        if common_password_of(user):
            yield (
                f"superuser {user.name!r} has a password from the common-password list: "
                "change it (plinth users add NAME --password-stdin)"
            )


def check_ratelimit_storage(context: Any) -> Iterable[str]:
    storage = str(context.settings["auth.ratelimit_storage"])
    if len(context.servers) > 1 and storage.startswith("memory://"):
        yield (
            f"{len(context.servers)} server sections but login limits are kept in each "
            "process's memory: set auth.ratelimit_storage to redis://... "
            "(PLINTH_AUTH_RATELIMIT_STORAGE) so that every process counts the same failures"
        )
