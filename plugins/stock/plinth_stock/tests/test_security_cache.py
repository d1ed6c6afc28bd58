"""Per-process security caches stay correct across processes (PRODUCT.md section 10).

Two real Waitress processes share the test database.  Each warms its caches of
tokens and ACLs with reads; then a change made through one process, through
the CLI's services or by a plain SQL statement decides the very next request
on the other; so does a change to a stored role that an ACL entry names.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import text

from .test_concurrency import call, servers  # noqa: F401 - the two processes

pytestmark = pytest.mark.slow

GRANT = {"entries": [{"action": "Allow", "principal": "group:viewers", "permission": "stock.view"}]}


@pytest.fixture
def world(servers: list[int], testapp: Any, make_user: Any) -> dict[str, Any]:  # noqa: F811
    """An admin, the item A-1, a viewer ``vic`` with a token, caches warm on both."""
    from plinth_auth.testing import PASSWORD

    make_user("admin", "admins")
    make_user("vic", "viewers")
    a, b = servers
    admin = login(a, "admin", PASSWORD)
    assert call(a, "PUT", "/locations/WH1", {"name": "Main"}, admin)[0] == 201
    assert call(a, "PUT", "/stock/A-1", {"name": "Anchor"}, admin)[0] == 201
    assert call(a, "PUT", "/@@acl", GRANT, admin)[0] == 200
    vic = login(a, "vic", PASSWORD)
    warm(servers, vic)
    return {"admin": admin, "vic": vic, "a": a, "b": b}


def login(port: int, name: str, password: str) -> dict[str, str]:
    status, _, body = call(port, "POST", "/auth/tokens", {"username": name, "password": password})
    assert status == 201, body
    return {"Authorization": f"Bearer {body['token']}"}


def warm(ports: list[int], headers: dict[str, str]) -> None:
    for port in ports:
        for _ in range(3):  # every thread's first request may be a miss; later ones hit
            assert call(port, "GET", "/stock/A-1", headers=headers)[0] == 200


def status_on(port: int, headers: dict[str, str]) -> int:
    return call(port, "GET", "/stock/A-1", headers=headers)[0]


def test_a_revoked_token_is_refused_by_the_other_process(world: dict[str, Any]) -> None:
    a, b, vic = world["a"], world["b"], world["vic"]
    status, _, tokens = call(a, "GET", "/auth/tokens", headers=vic)
    assert status == 200
    (token,) = tokens["items"]
    assert call(a, "DELETE", f"/auth/tokens/{token['id']}", headers=world["admin"])[0] in (200, 204)
    assert status_on(b, vic) == 401
    assert status_on(a, vic) == 401


def test_an_acl_change_decides_the_next_request_on_the_other_process(world: dict[str, Any]) -> None:
    a, b, vic, admin = world["a"], world["b"], world["vic"], world["admin"]
    assert call(a, "PUT", "/@@acl", {"entries": []}, admin)[0] == 200
    assert status_on(b, vic) == 403
    assert call(a, "PUT", "/@@acl", GRANT, admin)[0] == 200
    assert status_on(b, vic) == 200
    # a Deny lower in the tree, where the cached lineage of /stock/A-1 lives
    deny = {"entries": [{"action": "Deny", "principal": "user:vic", "permission": "stock.view"}]}
    assert call(a, "PUT", "/stock/A-1/@@acl", deny, admin)[0] == 200
    assert status_on(b, vic) == 403


def test_a_membership_change_decides_the_next_request_on_the_other_process(
    world: dict[str, Any],
) -> None:
    a, b, vic, admin = world["a"], world["b"], world["vic"], world["admin"]
    assert call(a, "PUT", "/auth/users/vic", {"groups": []}, admin)[0] == 200
    assert status_on(b, vic) == 403
    assert call(a, "PUT", "/auth/users/vic", {"groups": ["viewers"]}, admin)[0] == 200
    assert status_on(b, vic) == 200


def test_a_stored_role_change_decides_the_next_request_on_the_other_process(
    world: dict[str, Any],
) -> None:
    a, b, vic, admin = world["a"], world["b"], world["vic"], world["admin"]
    assert call(a, "PUT", "/@@roles/looker", {"permissions": ["stock.view"]}, admin)[0] == 201
    by_role = {
        "entries": [{"action": "Allow", "principal": "group:viewers", "permission": "role:looker"}]
    }
    assert call(a, "PUT", "/@@acl", by_role, admin)[0] == 200
    warm(world_ports(world), vic)  # the stored role is cached on both, at this version
    assert call(a, "PUT", "/@@roles/looker", {"permissions": ["stock.receive"]}, admin)[0] == 200
    assert status_on(b, vic) == 403
    assert call(b, "PUT", "/@@roles/looker", {"permissions": ["stock.view"]}, admin)[0] == 200
    assert status_on(a, vic) == 200


def test_disabling_a_user_decides_the_next_request_on_the_other_process(
    world: dict[str, Any],
) -> None:
    a, b, vic, admin = world["a"], world["b"], world["vic"], world["admin"]
    assert call(a, "PUT", "/auth/users/vic", {"active": False}, admin)[0] == 200
    assert status_on(b, vic) == 401


def test_a_password_change_decides_the_next_request_on_the_other_process(
    world: dict[str, Any],
) -> None:
    a, b, vic, admin = world["a"], world["b"], world["vic"], world["admin"]
    assert call(a, "PUT", "/auth/users/vic", {"password": "a-brand-new-password"}, admin)[0] == 200
    assert status_on(b, vic) == 401
    warm(world_ports(world), login(b, "vic", "a-brand-new-password"))


def world_ports(world: dict[str, Any]) -> list[int]:
    return [world["a"], world["b"]]


def test_writes_outside_the_api_bump_the_version_too(
    world: dict[str, Any], plinth_engine: Any
) -> None:
    """The CLI and an operator's SQL write the tables directly: still decided."""
    b, vic = world["b"], world["vic"]
    with plinth_engine.begin() as connection:
        connection.execute(text("DELETE FROM auth_memberships"))
    assert status_on(b, vic) == 403
    with plinth_engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO auth_memberships (user_id, group_id) "
                "SELECT u.id, g.id FROM auth_users u, auth_groups g "
                "WHERE u.name = 'vic' AND g.name = 'viewers'"
            )
        )
    assert status_on(b, vic) == 200
    with plinth_engine.begin() as connection:
        connection.execute(
            text("UPDATE auth_tokens SET revoked_at = :now"), {"now": datetime.now(UTC)}
        )
    assert status_on(b, vic) == 401


def test_recording_a_token_use_does_not_bump_the_version(
    world: dict[str, Any], plinth_engine: Any
) -> None:
    with plinth_engine.connect() as connection:
        before = connection.execute(text("SELECT version FROM security_version")).scalar()
    with plinth_engine.begin() as connection:
        connection.execute(text("UPDATE auth_tokens SET last_used_at = NULL"))
    with plinth_engine.connect() as connection:
        after = connection.execute(text("SELECT version FROM security_version")).scalar()
    assert after == before


def test_writes_are_decided_by_the_change_on_the_other_process(world: dict[str, Any]) -> None:
    """A write's authorization comes from the caches too (until it writes):
    a change on one process decides the next write on the other."""
    a, b, vic, admin = world["a"], world["b"], world["vic"], world["admin"]
    entry = {"action": "Allow", "principal": "group:viewers", "permission": "stock.receive"}
    receive = {"entries": [entry]}
    assert call(a, "PUT", "/locations/@@acl", receive, admin)[0] == 200
    for port in (a, b):  # warm both at this version with writes
        for _ in range(3):
            assert receipt_on(port, vic) == 201
    assert call(a, "PUT", "/locations/@@acl", {"entries": []}, admin)[0] == 200
    assert receipt_on(b, vic) == 403
    assert call(b, "PUT", "/locations/@@acl", receive, admin)[0] == 200
    assert receipt_on(a, vic) == 201
    assert call(a, "PUT", "/auth/users/vic", {"groups": []}, admin)[0] == 200
    assert receipt_on(b, vic) == 403
    assert call(a, "PUT", "/auth/users/vic", {"groups": ["viewers"]}, admin)[0] == 200
    assert receipt_on(b, vic) == 201
    assert call(a, "PUT", "/auth/users/vic", {"active": False}, admin)[0] == 200
    assert receipt_on(b, vic) == 401


def receipt_on(port: int, headers: dict[str, str]) -> int:
    body = {"kind": "receipt", "quantity": 1}
    return call(port, "POST", "/locations/WH1/A-1/movements", body, headers)[0]
