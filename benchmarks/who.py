"""How long ``@@who`` takes with 100,000 users (PRODUCT.md section 5, "Who can").

Builds a database with ``--users`` active users spread over ``--groups``
groups (two each), an ACL on ``/locations`` naming groups, users, a role
and a Deny, then prints the time of the first page (50 users), of the whole
list, and of evaluating the engine user by user on a sample, extrapolated.

    .venv/bin/python benchmarks/who.py
    .venv/bin/python benchmarks/who.py --database-url postgresql+psycopg://postgres@127.0.0.1/bench
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pyramid.request import Request
from pyramid.traversal import find_resource
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from plinth import acladmin, make_app, schema, whocan
from plinth.acl import decide, lineage_acls
from plinth.interfaces import IReadEngine, IWriteEngine
from plinth.resources import Root
from plinth.roles import role_table
from plinth.security import superuser_among
from plinth.services import get_service


def populate(engine: Any, users: int, groups: int) -> None:
    from plinth_auth.models import Group, User, memberships
    from plinth_auth.passwords import hash_password

    password_hash = hash_password("correct-horse-battery-staple")  # shared: no login here
    now = datetime.now(UTC)
    with engine.begin() as connection:
        connection.execute(insert(Group), [{"id": g + 1, "name": f"g{g}"} for g in range(groups)])
        batch = 10_000
        for start in range(0, users, batch):
            ids = range(start + 1, min(start + batch, users) + 1)
            connection.execute(
                insert(User),
                [
                    {
                        "id": i,
                        "name": f"user{i:06d}",
                        "password_hash": password_hash,
                        "active": i % 50 != 0,
                        "created_at": now,
                        "updated_at": now,
                    }
                    for i in ids
                ],
            )
            connection.execute(
                insert(memberships),
                [
                    {"user_id": i, "group_id": gid}
                    for i in ids
                    for gid in {i % groups + 1, (i * 7) % groups + 1}
                ],
            )


def timed(what: str, function: Any) -> Any:
    started = time.perf_counter()
    result = function()
    print(f"{what:<52} {1000 * (time.perf_counter() - started):9.1f} ms")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--groups", type=int, default=200)
    parser.add_argument(
        "--sample",
        type=int,
        default=2_000,
        help="users evaluated one by one for the brute-force estimate",
    )
    parser.add_argument(
        "--database-url", default=None, help="an empty database (default: a temporary SQLite file)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'who.sqlite'}"
        app = make_app({"sqlalchemy.url": url, "plinth.plugins": "auth stock"})
        registry, engine = app.registry, get_service(app.registry, IReadEngine)
        schema.upgrade(registry, engine)
        timed(
            f"populate {args.users} users, {args.groups} groups",
            lambda: populate(get_service(registry, IWriteEngine), args.users, args.groups),
        )
        with Session(bind=get_service(registry, IWriteEngine)) as db, db.begin():
            request = Request.blank("/")
            request.registry = registry
            request.__dict__["db"] = db
            root = Root(request)
            resource = find_resource(root, "/locations")
            acladmin.replace_acl(
                db,
                registry,
                resource,
                [
                    {"action": "Deny", "principal": "user:user000007", "permission": "stock.view"},
                    {"action": "Allow", "principal": "group:g3", "permission": "role:stock.clerk"},
                    {"action": "Deny", "principal": "group:g4", "permission": "stock.view"},
                    {"action": "Allow", "principal": "group:g5", "permission": "stock.view"},
                    {"action": "Allow", "principal": "user:user000042", "permission": "stock.view"},
                ],
                None,
                "benchmark",
            )
            rule = timed(
                "per-principal rule (the ACL walk)",
                lambda: whocan.rule_for(db, registry, resource, "stock.view"),
            )
            page = timed(
                "@@who first page (50 users)",
                lambda: whocan.who(db, registry, resource, "stock.view", None, 50),
            )
            everyone = timed(
                "@@who every allowed user", lambda: whocan.allowed_users(db, registry, rule)
            )
            print(
                f"allowed: {len(everyone)} of {args.users} users; first page starts "
                f"{page['users'][:3]}"
            )
            from plinth_auth.models import User

            names = list(
                db.scalars(
                    select(User.name)
                    .where(User.active.is_(True))
                    .order_by(User.name)
                    .limit(args.sample)
                )
            )
            acls = lineage_acls(resource, db, {})
            roles = role_table(db, registry)

            def brute_force() -> int:
                allowed = 0
                for name in names:
                    principals = acladmin.expand(db, registry, f"user:{name}") or []
                    if (
                        superuser_among(registry, principals)
                        or decide(acls, principals, "stock.view", roles).allowed
                    ):
                        allowed += 1
                return allowed

            started = time.perf_counter()
            brute_force()
            elapsed = time.perf_counter() - started
            print(
                f"{'engine user by user, extrapolated to all users':<52} "
                f"{1000 * elapsed * args.users / max(len(names), 1):9.1f} ms"
            )


if __name__ == "__main__":
    main()
