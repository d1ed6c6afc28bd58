"""``PUT @@acl`` under concurrent writers on two real Waitress processes.

Whatever the interleaving and the database: writers with one ETag let exactly
one win and the others get 412, and concurrent first writes to a resource
without stored entries are applied one after the other, never a 500.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text

from plinth.testservers import call, race

pytestmark = pytest.mark.slow

WRITERS = 20


def entries_of(n: int) -> list[dict[str, str]]:
    return [
        {"action": "Allow", "principal": f"user:writer-{n}", "permission": "stock.view"},
        {"action": "Deny", "principal": f"group:team-{n}", "permission": "stock.issue"},
    ]


def stored(engine: Any, path: str) -> tuple[Any, list[tuple[str, str, str]]]:
    with engine.connect() as connection:
        version = connection.execute(
            text("SELECT version FROM acl_resources WHERE path = :p"), {"p": path}
        ).scalar()
        rows = connection.execute(
            text(
                "SELECT action, principal, permission FROM acl_entries WHERE path = :p "
                "ORDER BY position"
            ),
            {"p": path},
        ).all()
        changes = connection.execute(
            text("SELECT count(*) FROM audit_log WHERE kind = 'acl.changed' AND resource = :p"),
            {"p": path},
        ).scalar_one()
    return (version, changes), [tuple(r) for r in rows]


def as_rows(entries: list[dict[str, str]]) -> list[tuple[str, str, str]]:
    return [(e["action"], e["principal"], e["permission"]) for e in entries]


@pytest.mark.parametrize("existing", [True, False], ids=["stored-entries", "no-stored-entries"])
def test_concurrent_acl_writers_with_one_etag_let_exactly_one_win(
    plinth_servers: list[int], admin: dict[str, str], plinth_engine: Any, existing: bool
) -> None:
    path = "/locations/WH1"
    if existing:
        status, _, _ = call(
            plinth_servers[0], "PUT", f"{path}/@@acl", {"entries": entries_of(-1)}, admin
        )
        assert status == 200
    status, headers, _ = call(plinth_servers[1], "GET", f"{path}/@@acl", headers=admin)
    assert status == 200
    etag = headers["ETag"]
    assert etag == ('"acl-1"' if existing else '"acl-0"')
    requests = [
        (f"{path}/@@acl", {"entries": entries_of(n)}, {**admin, "If-Match": etag})
        for n in range(WRITERS)
    ]
    results = race(plinth_servers, requests, method="PUT")
    statuses = sorted(status for status, _, _ in results)
    assert statuses == [200] + [412] * (WRITERS - 1), [r[2] for r in results]
    for status, _, body in results:
        if status == 412:
            assert body["error"] == "precondition_failed", body
    winner = next(n for n, (status, _, _) in enumerate(results) if status == 200)
    expected_version = 2 if existing else 1
    (version, changes), rows = stored(plinth_engine, path)
    assert (version, changes) == (expected_version, expected_version)
    assert rows == as_rows(entries_of(winner))
    status, headers, body = call(plinth_servers[0], "GET", f"{path}/@@acl", headers=admin)
    assert headers["ETag"] == f'"acl-{expected_version}"'
    assert as_rows(body["entries"]) == as_rows(entries_of(winner))


def test_concurrent_first_acl_writes_are_applied_one_after_the_other(
    plinth_servers: list[int], admin: dict[str, str], plinth_engine: Any
) -> None:
    path = "/locations/WH2"
    requests = [(f"{path}/@@acl", {"entries": entries_of(n)}, admin) for n in range(WRITERS)]
    results = race(plinth_servers, requests, method="PUT")
    statuses = [status for status, _, _ in results]
    assert statuses == [200] * WRITERS, [r[2] for r in results]
    # each write saw the one before it: every response has its own version
    assert sorted(headers["ETag"] for _, headers, _ in results) == sorted(
        f'"acl-{v}"' for v in range(1, WRITERS + 1)
    )
    last = next(
        n for n, (_, headers, _) in enumerate(results) if headers["ETag"] == f'"acl-{WRITERS}"'
    )
    (version, changes), rows = stored(plinth_engine, path)
    assert (version, changes) == (WRITERS, WRITERS)
    assert rows == as_rows(entries_of(last))


def test_removing_a_deleted_users_grants_queues_with_acl_writers(
    plinth_servers: list[int], admin: dict[str, str], make_user: Any, plinth_engine: Any
) -> None:
    path = "/locations/WH3"
    make_user("leaver")
    grant = [{"action": "Allow", "principal": "user:leaver", "permission": "stock.view"}]
    assert call(plinth_servers[0], "PUT", f"{path}/@@acl", {"entries": grant}, admin)[0] == 200
    # every writer keeps the grant, so the deletion always has one to remove
    requests = [
        (f"{path}/@@acl", {"entries": grant + entries_of(n)}, admin, "PUT")
        for n in range(WRITERS - 1)
    ]
    requests.append(("/auth/users/leaver?remove_grants=true", None, admin, "DELETE"))
    results = race(plinth_servers, requests)
    assert sorted(status for status, _, _ in results) == [200] * (WRITERS - 1) + [204], [
        r[2] for r in results
    ]
    # every change bumped the version once: no ETag is handed out twice
    (version, changes), _ = stored(plinth_engine, path)
    assert version == 1 + WRITERS
    assert changes == 1 + WRITERS
