"""Accounts under safe delegation: token revocation, grants of deleted users,
names matched in full, the password rules and the last superuser."""

from __future__ import annotations

from typing import Any

import pytest

from plinth_auth import passwords, services
from plinth_auth.testing import PASSWORD

NEW = "another-long-passphrase"


def test_a_new_password_revokes_every_token(
    testapp: Any, admin: dict[str, str], make_user: Any, login: Any
) -> None:
    make_user("tia", "clerks")
    first, second = login("tia"), login("tia")
    testapp.put_json("/auth/users/tia", {"password": NEW}, headers=admin)
    testapp.get("/auth/whoami", headers=first, status=401)
    testapp.get("/auth/whoami", headers=second, status=401)
    testapp.get("/auth/whoami", headers=login("tia", NEW), status=200)
    kinds = [
        e["kind"] for e in testapp.get("/@@audit?kind=token.revoked", headers=admin).json["items"]
    ]
    assert len(kinds) == 2


def test_disabling_revokes_tokens_and_enabling_revives_none(
    testapp: Any, admin: dict[str, str], make_user: Any, login: Any
) -> None:
    make_user("uli")
    token = login("uli")
    testapp.put_json("/auth/users/uli", {"active": False}, headers=admin)
    testapp.put_json("/auth/users/uli", {"active": True}, headers=admin)
    testapp.get("/auth/whoami", headers=token, status=401)
    tokens = testapp.get("/auth/tokens", headers=login("uli")).json["items"]
    assert len(tokens) == 1  # only the new one is live


def test_other_changes_keep_tokens(
    testapp: Any, admin: dict[str, str], make_user: Any, login: Any
) -> None:
    make_user("vera", "a")
    token = login("vera")
    testapp.put_json("/auth/users/vera", {"groups": ["b"]}, headers=admin)
    testapp.get("/auth/whoami", headers=token, status=200)


@pytest.mark.parametrize(
    ("query", "kept"),
    [
        ("", False),
        ("?keep_grants=false", False),
        ("?keep_grants=true", True),
        ("?remove_grants=true", False),
        ("?remove_grants=false", True),
        ("?keep_grants=true&remove_grants=false", True),
    ],
)
def test_deleting_a_user_removes_its_grants_unless_kept(
    testapp: Any, admin: dict[str, str], make_user: Any, query: str, kept: bool
) -> None:
    make_user("walt")
    entry = {"action": "Allow", "principal": "user:walt", "permission": "stock.view"}
    testapp.put_json("/stock/@@acl", {"entries": [entry]}, headers=admin)
    testapp.delete(f"/auth/users/walt{query}", headers=admin, status=204)
    entries = testapp.get("/stock/@@acl", headers=admin).json["entries"]
    assert [e["principal"] for e in entries] == (["user:walt"] if kept else [])
    grants = testapp.get("/@@grants?principal=user:walt", headers=admin).json["grants"]
    assert bool(grants) is kept


@pytest.mark.parametrize(
    "query", ["?keep_grants=maybe", "?remove_grants=1", "?keep_grants=true&remove_grants=true"]
)
def test_bad_grant_flags_are_400_and_delete_nothing(
    testapp: Any, admin: dict[str, str], make_user: Any, query: str
) -> None:
    make_user("xena")
    response = testapp.delete(f"/auth/users/xena{query}", headers=admin, status=400)
    assert response.json["error"] == "invalid_request"
    testapp.get("/auth/users/xena", headers=admin, status=200)


@pytest.mark.parametrize(
    ("url", "body"),
    [
        ("/auth/users/admin%0A", {"password": NEW}),
        ("/auth/users/yan", {"password": NEW, "groups": ["admins\n"]}),
        ("/auth/users/yan", {"password": NEW, "groups": ["ok", "bad name"]}),
    ],
)
def test_names_match_in_full(
    testapp: Any, admin: dict[str, str], url: str, body: dict[str, Any]
) -> None:
    before = testapp.get("/auth/users", headers=admin).json
    groups = testapp.get("/auth/groups", headers=admin).json
    response = testapp.put_json(url, body, headers=admin, status=400)
    assert response.json["error"] in ("invalid_name", "invalid_request")
    assert testapp.get("/auth/users", headers=admin).json == before
    assert testapp.get("/auth/groups", headers=admin).json == groups


def test_a_name_with_a_newline_does_not_log_in(testapp: Any, make_user: Any) -> None:
    make_user("zed")
    testapp.post_json("/auth/tokens", {"username": "zed\n", "password": PASSWORD}, status=401)
    with pytest.raises(services.AuthError):
        services.check_name("zed\n")


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("amelia", "at least"),
        ("amelia-is-the-best", "user name"),
        ("AMELIA", "at least"),
        ("xxAmElIa2024xx", "user name"),
        ("aaaaaaaaaaaa", "one character"),
        ("            ", "whitespace"),
        ("\t\t\t\t\t\t\t\t", "whitespace"),
    ],
)
def test_passwords_that_give_themselves_away_are_refused(
    testapp: Any, admin: dict[str, str], password: str, message: str
) -> None:
    response = testapp.put_json(
        "/auth/users/amelia", {"password": password}, headers=admin, status=400
    )
    body = response.json
    assert body["error"] == "weak_password" and message in body["message"]
    assert body["details"]["errors"][0]["field"] == "password"
    testapp.get("/auth/users/amelia", headers=admin, status=404)


def test_password_rules_cover_the_name_exactly() -> None:
    with pytest.raises(passwords.PasswordRejected):
        passwords.check_policy("bo-bo-bo-bo", "bo-bo-bo-bo")
    # a two-letter name is not searched for inside passwords
    passwords.check_policy("a-good-long-passphrase", "go")


def test_cli_refuses_to_remove_the_last_superuser(
    plinth_registry: Any, make_user: Any, clean_database: None
) -> None:
    from plinth.api import Environment

    make_user("root", "admins")
    env = Environment(plinth_registry, "testing.ini")
    with pytest.raises(services.AuthError) as refused, env.session() as db:
        services.save_user(db, plinth_registry, "root", services.Actor("cli:op"), active=False)
    assert refused.value.code == "last_superuser"
    with env.session() as db:
        user = services.user_by_name(db, "root")
        assert user is not None
        with pytest.raises(services.AuthError):
            services.delete_user(db, plinth_registry, user, services.Actor("cli:op"))
    make_user("deputy", "admins")
    with env.session() as db:
        services.save_user(db, plinth_registry, "root", services.Actor("cli:op"), active=False)


def test_two_superusers_disabled_at_once_leave_one(
    plinth_registry: Any, make_user: Any, clean_database: None
) -> None:
    """Each change sees the other's commit: they cannot each remove "the other"."""
    import threading

    from plinth.api import Environment

    make_user("first", "admins")
    make_user("second", "admins")
    env = Environment(plinth_registry, "testing.ini")
    outcome: dict[str, Any] = {}

    def disable_second() -> None:
        try:
            with env.session() as db:
                services.save_user(
                    db, plinth_registry, "second", services.Actor("t2"), active=False
                )
            outcome["second"] = "disabled"
        except services.AuthError as exc:
            outcome["second"] = exc.code

    with env.session() as db:
        services.save_user(db, plinth_registry, "first", services.Actor("t1"), active=False)
        other = threading.Thread(target=disable_second)
        other.start()
        other.join(0.5)
        assert other.is_alive()  # waits for this transaction
    other.join(30)
    assert outcome == {"second": "last_superuser"}
    with env.session(write=False) as db:
        states = {
            u: services.user_by_name(db, u).active  # type: ignore[union-attr]
            for u in ("first", "second")
        }
    assert states == {"first": False, "second": True}
