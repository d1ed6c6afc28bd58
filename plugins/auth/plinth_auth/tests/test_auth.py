"""Functional tests of the auth plugin, through HTTP, on a real database."""

from __future__ import annotations

import os
from typing import Any

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select, text

from plinth.api import registered_permissions
from plinth_auth import passwords, services
from plinth_auth.models import Token, User
from plinth_auth.testing import PASSWORD


def test_includeme_registers_identity_provider_limiter_and_tree(plinth_registry: Any) -> None:
    from plinth.api import IIdentityProvider, ILoginLimiter, query_service

    assert query_service(plinth_registry, IIdentityProvider) is not None
    assert ILoginLimiter.providedBy(query_service(plinth_registry, ILoginLimiter))
    assert plinth_registry.introspector.get("plinth tree", "auth") is not None
    assert {"auth.manage", "auth.self"} <= set(registered_permissions(plinth_registry))


def test_issue_token_and_whoami(testapp: Any, make_user: Any) -> None:
    make_user("alice", "clerks")
    response = testapp.post_json(
        "/auth/tokens", {"username": "alice", "password": PASSWORD}, status=201
    )
    body = response.json
    assert set(body) == {"token", "id", "expires_at"}
    assert body["token"].startswith("plinth_")
    me = testapp.get("/auth/whoami", headers={"Authorization": f"Bearer {body['token']}"}).json
    assert me["user"] == "alice"
    assert set(me["principals"]) == {
        "system.Everyone",
        "system.Authenticated",
        "user:alice",
        "group:clerks",
    }


def test_token_is_long_random_and_stored_only_as_hash(
    testapp: Any, make_user: Any, plinth_engine: Any
) -> None:
    make_user("alice")
    tokens = {
        testapp.post_json("/auth/tokens", {"username": "alice", "password": PASSWORD}).json["token"]
        for _ in range(3)
    }
    assert len(tokens) == 3
    for token in tokens:
        assert len(token) - len("plinth_") >= 43  # 32 bytes, urlsafe base64
    with plinth_engine.connect() as connection:
        stored = " ".join(
            str(v) for row in connection.execute(text("SELECT * FROM auth_tokens")) for v in row
        )
    for token in tokens:
        assert token not in stored
        assert token[len("plinth_") :] not in stored


@pytest.mark.parametrize(
    "body",
    [
        {"username": "alice", "password": "wrong-password"},
        {"username": "nobody", "password": "wrong-password"},
        {"username": "nobody", "password": PASSWORD},
    ],
)
def test_bad_credentials_are_indistinguishable(
    testapp: Any, make_user: Any, body: dict[str, str]
) -> None:
    make_user("alice")
    response = testapp.post_json("/auth/tokens", body, status=401)
    assert response.json == {
        "status": 401,
        "error": "invalid_credentials",
        "message": "the username or password is wrong",
        "details": {},
    }


def test_unknown_user_costs_a_hash_too(
    testapp: Any, make_user: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Comparable timing without timing the test: an unknown name costs exactly
    the same work as a wrong password, one real argon2id verification with the
    same parameters."""
    make_user("alice")
    verified: list[str] = []
    real_verify = services.verify_password

    def counting_verify(stored: str, password: str) -> bool:
        verified.append(stored.split("$")[3])  # the parameters, e.g. m=19456,t=2,p=1
        return real_verify(stored, password)

    monkeypatch.setattr(services, "verify_password", counting_verify)
    testapp.post_json("/auth/tokens", {"username": "alice", "password": "nope-nope"}, status=401)
    testapp.post_json("/auth/tokens", {"username": "nobody", "password": "nope-nope"}, status=401)
    assert len(verified) == 2 and verified[0] == verified[1]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"username": "alice"}, "password"),
        ({"password": "x"}, "username"),
        ({"username": "alice", "password": "x", "extra": 1}, "extra"),
        ({"username": 5, "password": "x"}, "username"),
    ],
)
def test_token_request_validation(testapp: Any, body: dict[str, Any], field: str) -> None:
    response = testapp.post_json("/auth/tokens", body, status=400)
    assert response.json["error"] == "invalid_request"
    assert response.json["details"]["errors"][0]["field"] == field


def test_token_request_needs_json(testapp: Any) -> None:
    testapp.post("/auth/tokens", "username=a&password=b", status=415)
    response = testapp.post(
        "/auth/tokens", "{not json", content_type="application/json", status=400
    )
    assert response.json["error"] == "invalid_json"


def test_revoked_token_fails_on_the_next_request(testapp: Any, make_user: Any, login: Any) -> None:
    make_user("alice")
    headers = login("alice")
    token_id = testapp.get("/auth/tokens", headers=headers).json["items"][0]["id"]
    testapp.delete(f"/auth/tokens/{token_id}", headers=headers, status=204)
    response = testapp.get("/auth/whoami", headers=headers, status=401)
    assert response.json["error"] == "unauthorized"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_only_owner_or_manager_revokes(testapp: Any, make_user: Any, login: Any) -> None:
    make_user("alice")
    make_user("bob")
    make_user("root", "admins")
    alice = login("alice")
    token_id = testapp.get("/auth/tokens", headers=alice).json["items"][0]["id"]
    testapp.delete(f"/auth/tokens/{token_id}", headers=login("bob"), status=403)
    testapp.get("/auth/whoami", headers=alice, status=200)
    testapp.delete(f"/auth/tokens/{token_id}", headers=login("root"), status=204)
    testapp.get("/auth/whoami", headers=alice, status=401)


def test_expired_token_fails(
    testapp: Any, make_user: Any, login: Any, plinth_registry: Any, clock: Any
) -> None:
    make_user("alice")
    headers = login("alice")
    ttl = plinth_registry.settings["auth.token_ttl"]
    clock.advance(seconds=ttl - 5)
    testapp.get("/auth/whoami", headers=headers, status=200)
    clock.advance(seconds=5)
    testapp.get("/auth/whoami", headers=headers, status=401)


def test_disabled_user_token_fails_at_once(
    testapp: Any, make_user: Any, login: Any, admin: dict[str, str]
) -> None:
    make_user("alice")
    headers = login("alice")
    testapp.get("/auth/whoami", headers=headers, status=200)
    testapp.put_json("/auth/users/alice", {"active": False}, headers=admin, status=200)
    testapp.get("/auth/whoami", headers=headers, status=401)
    # and a disabled user cannot log in
    testapp.post_json("/auth/tokens", {"username": "alice", "password": PASSWORD}, status=401)


def test_removed_membership_takes_effect_at_once(
    testapp: Any, make_user: Any, login: Any, admin: dict[str, str]
) -> None:
    make_user("alice", "admins")
    headers = login("alice")
    testapp.get("/auth/users", headers=headers, status=200)
    testapp.put_json("/auth/users/alice", {"groups": []}, headers=admin, status=200)
    testapp.get("/auth/users", headers=headers, status=403)


def test_eleventh_bad_login_is_rate_limited(testapp: Any, make_user: Any) -> None:
    make_user("alice")
    make_user("bob")
    for _ in range(10):
        testapp.post_json(
            "/auth/tokens", {"username": "alice", "password": "bad-password"}, status=401
        )
    response = testapp.post_json(
        "/auth/tokens", {"username": "alice", "password": "bad-password"}, status=429
    )
    assert response.json["error"] == "rate_limited"
    assert 0 < int(response.headers["Retry-After"]) <= 300
    # even the right password waits: that is what stops guessing
    testapp.post_json("/auth/tokens", {"username": "alice", "password": PASSWORD}, status=429)
    # another account is unaffected
    testapp.post_json("/auth/tokens", {"username": "bob", "password": PASSWORD}, status=201)


def test_attacker_cannot_lock_out_existing_tokens(testapp: Any, make_user: Any, login: Any) -> None:
    make_user("alice")
    headers = login("alice")
    for _ in range(11):
        testapp.post_json(
            "/auth/tokens",
            {"username": "alice", "password": "bad-password"},
            extra_environ={"REMOTE_ADDR": "203.0.113.9"},
            status="4*",
        )
    testapp.get("/auth/whoami", headers=headers, status=200)


def test_client_address_limit(testapp: Any, plinth_registry: Any, make_user: Any) -> None:
    limit = plinth_registry.settings["auth.client_login_attempts"]
    for n in range(limit):
        testapp.post_json(
            "/auth/tokens",
            {"username": f"user{n}", "password": "bad-pass"},
            extra_environ={"REMOTE_ADDR": "198.51.100.7"},
            status=401,
        )
    testapp.post_json(
        "/auth/tokens",
        {"username": "someone", "password": "bad-pass"},
        extra_environ={"REMOTE_ADDR": "198.51.100.7"},
        status=429,
    )
    # another address is not limited
    testapp.post_json(
        "/auth/tokens",
        {"username": "someone", "password": "bad-pass"},
        extra_environ={"REMOTE_ADDR": "198.51.100.8"},
        status=401,
    )


def test_client_limit_counts_accounts_not_attempts(
    testapp: Any, plinth_registry: Any, make_user: Any
) -> None:
    limit = plinth_registry.settings["auth.client_login_attempts"]
    make_user("colleague")
    address = {"REMOTE_ADDR": "198.51.100.9"}
    for n in range(limit - 1):
        for _ in range(3):  # retries on one account count once for the address
            testapp.post_json(
                "/auth/tokens",
                {"username": f"typo{n}", "password": "bad-pass"},
                extra_environ=address,
                status=401,
            )
    # 3 x (limit - 1) failures, but on limit - 1 accounts: a colleague still logs in
    testapp.post_json(
        "/auth/tokens",
        {"username": "colleague", "password": PASSWORD},
        extra_environ=address,
        status=201,
    )
    testapp.post_json(
        "/auth/tokens",
        {"username": "one-more", "password": "bad-pass"},
        extra_environ=address,
        status=401,
    )
    testapp.post_json(
        "/auth/tokens",
        {"username": "colleague", "password": PASSWORD},
        extra_environ=address,
        status=429,
    )


def test_failed_logins_are_audited(testapp: Any, make_user: Any, admin: dict[str, str]) -> None:
    testapp.post_json(
        "/auth/tokens", {"username": "mallory", "password": "bad-password"}, status=401
    )
    entries = testapp.get("/@@audit?kind=login.failed", headers=admin).json["items"]
    assert entries and entries[0]["after"]["username"] == "mallory"


def test_user_administration(testapp: Any, admin: dict[str, str], login: Any) -> None:
    created = testapp.put_json(
        "/auth/users/carol",
        {"password": "a-long-password-9", "groups": ["clerks", "pickers"]},
        headers=admin,
        status=201,
    ).json
    assert created["groups"] == ["clerks", "pickers"]
    assert "password" not in created and "password_hash" not in created
    testapp.put_json("/auth/users/carol", {"groups": ["clerks"]}, headers=admin, status=200)
    assert testapp.get("/auth/users/carol", headers=admin).json["groups"] == ["clerks"]
    page = testapp.get("/auth/users?limit=1", headers=admin).json
    assert len(page["items"]) == 1 and page["next_cursor"]
    rest = testapp.get(f"/auth/users?limit=1&cursor={page['next_cursor']}", headers=admin).json
    assert rest["items"][0]["name"] != page["items"][0]["name"]
    groups = testapp.get("/auth/groups", headers=admin).json["items"]
    assert {"name": "clerks", "members": 1} in groups
    assert testapp.get("/auth/groups/clerks", headers=admin).json["members"] == ["carol"]
    testapp.get("/auth/groups/nosuch", headers=admin, status=404)
    carol = login("carol", "a-long-password-9")
    testapp.get("/auth/whoami", headers=carol, status=200)
    testapp.delete("/auth/users/carol", headers=admin, status=204)
    testapp.get("/auth/whoami", headers=carol, status=401)
    testapp.get("/auth/users/carol", headers=admin, status=404)
    testapp.delete("/auth/users/carol", headers=admin, status=404)


def test_non_admin_gets_403_on_user_administration(
    testapp: Any, make_user: Any, login: Any
) -> None:
    make_user("alice")
    headers = login("alice")
    testapp.get("/auth/users", headers=headers, status=403)
    testapp.get("/auth/users/alice", headers=headers, status=403)
    testapp.put_json("/auth/users/alice", {"groups": ["admins"]}, headers=headers, status=403)
    testapp.get("/auth/groups", headers=headers, status=403)
    # without credentials: 401 whether or not the user exists
    testapp.get("/auth/users/alice", status=401)
    testapp.get("/auth/users/nobody", status=401)


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"password": "short"}, "weak_password"),
        ({"password": "password123"}, "weak_password"),
        ({"password": "x" * 1025}, "weak_password"),
        ({"groups": ["no spaces allowed"]}, "invalid_request"),
        ({"active": "yes"}, "invalid_request"),
        ({"unknown": 1}, "invalid_request"),
        ({}, "password_required"),
    ],
)
def test_user_put_rejects_bad_input(
    testapp: Any, admin: dict[str, str], body: dict[str, Any], code: str
) -> None:
    response = testapp.put_json("/auth/users/dave", body, headers=admin, status=400)
    assert response.json["error"] == code
    testapp.get("/auth/users/dave", headers=admin, status=404)


def test_long_passwords_are_not_truncated(testapp: Any, make_user: Any) -> None:
    long_password = "p" * 100 + "A"
    make_user("erin", password=long_password)
    testapp.post_json("/auth/tokens", {"username": "erin", "password": long_password}, status=201)
    testapp.post_json("/auth/tokens", {"username": "erin", "password": "p" * 100 + "B"}, status=401)


def test_weak_hash_is_upgraded_at_login(testapp: Any, make_user: Any, plinth_engine: Any) -> None:
    make_user("frank")
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PASSWORD)
    with plinth_engine.begin() as connection:
        connection.execute(
            text("UPDATE auth_users SET password_hash = :h WHERE name = 'frank'"), {"h": weak}
        )
    testapp.post_json("/auth/tokens", {"username": "frank", "password": PASSWORD}, status=201)
    with plinth_engine.connect() as connection:
        stored = connection.execute(
            text("SELECT password_hash FROM auth_users WHERE name = 'frank'")
        ).scalar_one()
    assert stored != weak
    assert f"m={passwords.MEMORY_COST_KIB},t={passwords.TIME_COST},p=1" in stored


def test_hash_parameters_meet_the_minimum() -> None:
    stored = passwords.hash_password("a-fine-password")
    assert stored.startswith("$argon2id$")
    assert passwords.TIME_COST >= 2 and passwords.MEMORY_COST_KIB >= 19 * 1024


def test_token_lookup_costs_one_statement_then_none(
    testapp: Any, make_user: Any, login: Any, sql_counter: Any
) -> None:
    make_user("gina", "clerks", "pickers")
    headers = login("gina")  # a new token bumps the security version: caches miss
    with sql_counter() as counter:
        assert testapp.get("/auth/whoami", headers=headers).json["user"] == "gina"
    identity = [s for s in counter.statements if s.startswith("SELECT auth_tokens")]
    assert len(identity) == 1, "\n".join(counter.statements)
    # the version with the ACL lineage of /auth, the identity, then the recorded use
    assert counter.count == 3, "\n".join(counter.statements)
    assert counter.statements[-1].startswith("UPDATE auth_tokens SET last_used_at")
    # warm: only the security version is read, the token and ACLs are cached
    with sql_counter() as counter:
        assert testapp.get("/auth/whoami", headers=headers).json["user"] == "gina"
    assert counter.count == 1 and "security_version" in counter.statements[0], "\n".join(
        counter.statements
    )


def test_last_used_is_recorded(testapp: Any, make_user: Any, login: Any) -> None:
    make_user("hana")
    headers = login("hana")
    testapp.get("/auth/whoami", headers=headers)
    tokens = testapp.get("/auth/tokens", headers=headers).json["items"]
    assert tokens[0]["last_used_at"] is not None
    assert "token" not in tokens[0] and "secret_hash" not in tokens[0]


def test_events_reach_the_audit_log(testapp: Any, admin: dict[str, str]) -> None:
    testapp.put_json(
        "/auth/users/ivan", {"password": "iv-secret-pass-1", "groups": ["a"]}, headers=admin
    )
    testapp.put_json("/auth/users/ivan", {"groups": ["b"]}, headers=admin)
    token = testapp.post_json(
        "/auth/tokens", {"username": "ivan", "password": "iv-secret-pass-1"}
    ).json
    testapp.delete(f"/auth/tokens/{token['id']}", headers=admin, status=204)
    testapp.delete("/auth/users/ivan", headers=admin, status=204)
    kinds = [
        e["kind"]
        for e in testapp.get("/@@audit?resource=/auth/users/ivan", headers=admin).json["items"]
    ]
    for kind in (
        "user.created",
        "membership.changed",
        "user.changed",
        "token.issued",
        "token.revoked",
        "user.deleted",
    ):
        assert kind in kinds


def test_delete_user_can_remove_its_grants(testapp: Any, admin: dict[str, str]) -> None:
    testapp.put_json("/auth/users/judy", {"password": "ju-secret-pass-1"}, headers=admin)
    testapp.put_json(
        "/stock/@@acl",
        {"entries": [{"action": "Allow", "principal": "user:judy", "permission": "stock.view"}]},
        headers=admin,
    )
    assert testapp.get("/@@grants?principal=user:judy", headers=admin).json["grants"]
    testapp.delete("/auth/users/judy?remove_grants=maybe", headers=admin, status=400)
    testapp.delete("/auth/users/judy?remove_grants=true", headers=admin, status=204)
    assert testapp.get("/@@grants?principal=user:judy", headers=admin).json["grants"] == []


def test_services_reject_bad_names(dbsession: Any, plinth_registry: Any) -> None:
    with pytest.raises(services.AuthError):
        services.save_user(
            dbsession, plinth_registry, "bad name", services.Actor("t"), password="good-password-1"
        )
    assert dbsession.scalars(select(User)).all() == []
    assert dbsession.scalars(select(Token)).all() == []


def redis_url() -> str:
    return os.environ.get("PLINTH_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def test_limits_are_shared_through_redis(
    plinth_settings: dict[str, Any], testapp: Any, make_user: Any
) -> None:
    """Two processes' worth of apps, one Redis: failures on one count on the other."""
    redis = pytest.importorskip("redis")
    client = redis.Redis.from_url(redis_url())
    try:
        client.ping()
    except redis.ConnectionError:
        pytest.skip("Redis is not running (.ci/run starts it)")
    client.flushdb()
    from webtest import TestApp

    from plinth.api import make_app

    settings = {**plinth_settings, "auth.ratelimit_storage": redis_url(), "plinth.plugins": "auth"}
    first, second = (
        TestApp(make_app(dict(settings)), extra_environ={"REMOTE_ADDR": "192.0.2.1"})
        for _ in range(2)
    )
    make_user("uma")
    for attempt in range(10):
        app = first if attempt % 2 else second
        app.post_json("/auth/tokens", {"username": "uma", "password": "bad-password"}, status=401)
    first.post_json("/auth/tokens", {"username": "uma", "password": PASSWORD}, status=429)
    second.post_json("/auth/tokens", {"username": "uma", "password": PASSWORD}, status=429)
    client.flushdb()
