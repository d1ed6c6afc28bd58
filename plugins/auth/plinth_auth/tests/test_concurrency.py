"""Users and groups under concurrent writers on two real Waitress processes.

Concurrent ``PUT /auth/users/{name}`` of one new user create it once (one 201,
the others update it in turn: 200), and concurrent first memberships of one
group create the group once; never a 500, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text

from plinth.testservers import call, race

pytestmark = pytest.mark.slow

WRITERS = 20


def password_of(n: int) -> str:
    return f"correct-horse-battery-{n:02d}"


def test_concurrent_creates_of_one_user_create_it_once(
    plinth_servers: list[int], admin: dict[str, str], plinth_engine: Any
) -> None:
    requests = [
        (
            "/auth/users/newbie",
            {"password": password_of(n), "groups": ["crew", f"team-{n % 3}"]},
            admin,
        )
        for n in range(WRITERS)
    ]
    results = race(plinth_servers, requests, method="PUT")
    statuses = sorted(status for status, _, _ in results)
    assert statuses == [200] * (WRITERS - 1) + [201], [r[2] for r in results]
    # the writes were applied one after the other: the last one is what is stored
    last = max(range(WRITERS), key=lambda n: results[n][2]["updated_at"])
    with plinth_engine.connect() as connection:
        users = connection.execute(
            text("SELECT count(*) FROM auth_users WHERE name = 'newbie'")
        ).scalar_one()
        groups = (
            connection.execute(text("SELECT name FROM auth_groups ORDER BY name")).scalars().all()
        )
        members = (
            connection.execute(
                text(
                    "SELECT g.name FROM auth_memberships m JOIN auth_groups g ON g.id = m.group_id "
                    "JOIN auth_users u ON u.id = m.user_id WHERE u.name = 'newbie' "
                    "ORDER BY g.name"
                )
            )
            .scalars()
            .all()
        )
        kinds = connection.execute(
            text(
                "SELECT kind, count(*) FROM audit_log WHERE resource = '/auth/users/newbie' "
                "AND kind IN ('user.created', 'user.changed') GROUP BY kind"
            )
        ).all()
    assert users == 1
    assert groups == ["admins", "crew", "team-0", "team-1", "team-2"]
    assert members == ["crew", f"team-{last % 3}"]
    assert dict(kinds) == {"user.created": 1, "user.changed": WRITERS - 1}
    status, _, body = call(
        plinth_servers[0],
        "POST",
        "/auth/tokens",
        {"username": "newbie", "password": password_of(last)},
    )
    assert status == 201, body


def test_concurrent_first_members_of_one_group_create_it_once(
    plinth_servers: list[int], admin: dict[str, str], plinth_engine: Any
) -> None:
    requests = [
        (
            f"/auth/users/member-{n}",
            {"password": password_of(n), "groups": ["night-shift", "pickers"]},
            admin,
        )
        for n in range(WRITERS)
    ]
    results = race(plinth_servers, requests, method="PUT")
    assert [status for status, _, _ in results] == [201] * WRITERS, [r[2] for r in results]
    with plinth_engine.connect() as connection:
        groups = connection.execute(
            text(
                "SELECT g.name, count(m.user_id) FROM auth_groups g "
                "LEFT JOIN auth_memberships m ON m.group_id = g.id "
                "GROUP BY g.name ORDER BY g.name"
            )
        ).all()
    assert [tuple(g) for g in groups] == [
        ("admins", 1),
        ("night-shift", WRITERS),
        ("pickers", WRITERS),
    ]
