"""``@@who``: every active user allowed a permission, checked against the engine."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from pyramid.request import Request
from pyramid.traversal import find_resource

from plinth import acladmin, roles, whocan
from plinth.acl import decide, lineage_acls
from plinth.resources import Root
from plinth.security import superuser_among
from plinth.testing import acl_entry as grant

PATHS = ["/", "/locations", "/locations/WH1"]
USERS = ["ann", "bob", "cy", "dee", "eve"]
GROUPS = ["g1", "g2", "admins"]
PRINCIPALS = [
    "system.Everyone",
    "system.Authenticated",
    "user:ann",
    "user:bob",
    "user:cy",
    "group:g1",
    "group:g2",
    "group:ghost",
]
ASKED = ["stock.view", "stock.adjust"]

entry = st.fixed_dictionaries(
    {
        "action": st.sampled_from(["Allow", "Deny"]),
        "principal": st.sampled_from(PRINCIPALS),
        "permission": st.sampled_from(
            ["stock.view", "stock.adjust", "ALL", "role:stock.clerk", "role:viewer"]
        ),
    }
)
acls = st.fixed_dictionaries(
    dict.fromkeys(PATHS, st.tuples(st.lists(entry, max_size=5), st.booleans()))
)
people = st.fixed_dictionaries(
    dict.fromkeys(
        USERS, st.tuples(st.lists(st.sampled_from(GROUPS), unique=True, max_size=3), st.booleans())
    )
)


@cache
def a_real_hash() -> str:
    from plinth_auth.passwords import hash_password

    return hash_password("correct-horse-battery-staple")


def add_people(db: Any, who: dict[str, tuple[list[str], bool]]) -> None:
    from plinth_auth.models import Group, User

    now = datetime.now(UTC)
    groups = {name: Group(name=name) for name in GROUPS}
    db.add_all(groups.values())
    for name, (member_of, active) in who.items():
        db.add(
            User(
                name=name,
                password_hash=a_real_hash(),
                active=active,
                created_at=now,
                updated_at=now,
                groups=[groups[g] for g in member_of],
            )
        )
    db.flush()


def root_for(registry: Any, db: Any) -> Root:
    request = Request.blank("/")
    request.registry = registry
    request.__dict__["db"] = db
    return Root(request)


def brute_force(db: Any, registry: Any, resource: Any, permission: str) -> list[str]:
    """Ask the engine about every active user, one at a time."""
    from sqlalchemy import select

    from plinth_auth.models import User

    table = roles.role_table(db, registry)
    acls = lineage_acls(resource, db, {})
    allowed = []
    for name in db.scalars(select(User.name).where(User.active.is_(True)).order_by(User.name)):
        principals = acladmin.expand(db, registry, f"user:{name}")
        assert principals is not None
        if (
            superuser_among(registry, principals)
            or decide(acls, principals, permission, table).allowed
        ):
            allowed.append(name)
    return allowed


@pytest.mark.filterwarnings("ignore")
@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(tree=acls, who=people)
@example(
    tree={
        "/": ([], True),
        "/locations": ([], True),
        "/locations/WH1": (
            [
                {"action": "Deny", "principal": "user:ann", "permission": "stock.view"},
                {"action": "Allow", "principal": "group:g1", "permission": "role:stock.clerk"},
                {
                    "action": "Allow",
                    "principal": "system.Authenticated",
                    "permission": "stock.view",
                },
            ],
            False,
        ),
    },
    who={
        "ann": (["g1"], True),
        "bob": (["g1"], True),
        "cy": ([], True),
        "dee": (["admins"], True),
        "eve": (["g1"], False),
    },
)
def test_who_agrees_with_the_engine_for_every_user(
    plinth_registry: Any, dbsession: Any, tree: dict[str, Any], who: dict[str, Any]
) -> None:
    savepoint = dbsession.begin_nested()
    try:
        add_people(dbsession, who)
        roles.save_role(dbsession, plinth_registry, "viewer", ["stock.view"], None, "test")
        root = root_for(plinth_registry, dbsession)
        for path, (entries, inherit) in tree.items():
            acladmin.replace_acl(
                dbsession, plinth_registry, find_resource(root, path), entries, inherit, "test"
            )
        for path in PATHS:
            resource = find_resource(root, path)
            for permission in ASKED:
                rule = whocan.rule_for(dbsession, plinth_registry, resource, permission)
                listed = whocan.allowed_users(dbsession, plinth_registry, rule)
                assert listed == brute_force(dbsession, plinth_registry, resource, permission), (
                    path,
                    permission,
                    rule,
                )
    finally:
        savepoint.rollback()


@pytest.fixture
def root(as_principal: Any) -> Any:
    root = as_principal("user:root", "group:admins")
    root.put_json("/locations/WH1", {"name": "Main"})
    return root


def test_who_lists_users_and_the_deciding_principals(root: Any, make_user: Any) -> None:
    make_user("ann", "clerks")
    make_user("bob", "clerks")
    make_user("cy")
    make_user("dee", "clerks", active=False)
    make_user("boss", "admins")
    root.put_json(
        "/locations/WH1/@@acl",
        {
            "entries": [
                grant("user:bob", "stock.receive", "Deny"),
                grant("group:clerks", "role:stock.clerk"),
            ]
        },
    )
    body = root.get("/locations/WH1/@@who?permission=stock.receive").json
    assert body["resource"] == "/locations/WH1"
    assert body["permission"] == "stock.receive"
    assert body["users"] == ["ann", "boss"]
    assert body["principals"] == [
        {
            "principal": "group:admins",
            "decided_by": {"source": "superuser", "setting": "plinth.superusers"},
        },
        {
            "principal": "group:clerks",
            "decided_by": {
                "resource": "/locations/WH1",
                "position": 1,
                "action": "Allow",
                "principal": "group:clerks",
                "permission": "role:stock.clerk",
                "source": "stored",
                "role": "stock.clerk",
            },
        },
    ]
    assert body["next_cursor"] is None
    root.put_json("/@@acl", {"entries": [grant("system.Authenticated", "stock.receive")]})
    everyone = root.get("/locations/WH1/@@who?permission=stock.receive").json
    assert everyone["users"] == ["ann", "boss", "cy"]
    assert everyone["principals"][-1]["principal"] == "system.Authenticated"


def test_who_is_paginated(root: Any, make_user: Any) -> None:
    for name in ("u1", "u2", "u3"):
        make_user(name, "admins")
    first = root.get("/@@who?permission=stock.view&limit=2").json
    assert first["users"] == ["u1", "u2"]
    second = root.get(f"/@@who?permission=stock.view&limit=2&cursor={first['next_cursor']}")
    assert second.json["users"] == ["u3"] and second.json["next_cursor"] is None


@pytest.mark.parametrize(
    ("query", "error"),
    [
        ("", "invalid_request"),
        ("?permission=no.such", "invalid_request"),
        ("?permission=stock.view&limit=0", "invalid_request"),
        ("?permission=stock.view&cursor=bogus", "invalid_cursor"),
    ],
)
def test_bad_who_queries_are_400(root: Any, query: str, error: str) -> None:
    assert root.get(f"/locations/WH1/@@who{query}", status=400).json["error"] == error


def test_who_needs_acl_view_here_and_on_the_root(root: Any, as_principal: Any) -> None:
    root.put_json("/locations/WH1/@@acl", {"entries": [grant("group:leads", "acl.view")]})
    lead = as_principal("user:lea", "group:leads")
    # a subtree holder could otherwise learn who is in which group
    response = lead.get("/locations/WH1/@@who?permission=stock.view", status=403)
    assert response.json["error"] == "forbidden"
    as_principal("user:nobody").get("/locations/WH1/@@who?permission=stock.view", status=403)
    root.put_json("/@@acl", {"entries": [grant("group:auditors", "acl.view")]})
    auditor = as_principal("user:aud", "group:auditors")
    auditor.get("/locations/WH1/@@who?permission=stock.view", status=200)


def test_openapi_documents_roles_who_and_dry_run(testapp: Any) -> None:
    paths = testapp.get("/openapi.json").json["paths"]
    assert set(paths["/@@roles"]) == {"get"}
    assert set(paths["/@@roles/{name}"]) == {"put", "delete"}
    assert "409" in paths["/@@roles/{name}"]["delete"]["responses"]
    for path in ("/@@who", "/{resource}/@@who"):
        names = [p["name"] for p in paths[path]["get"]["parameters"]]
        assert {"permission", "limit", "cursor"} <= set(names)
    for path in ("/@@acl", "/{resource}/@@acl"):
        assert "dry_run" in [p["name"] for p in paths[path]["put"]["parameters"]]
    assert "/reports/access-review" in paths


def test_openapi_states_what_roles_and_who_check(testapp: Any) -> None:
    """A role's name and @@who's permission are checked in code (400): the
    document states the same, so a client following it is never refused."""
    import re

    paths = testapp.get("/openapi.json").json["paths"]
    for method in ("put", "delete"):
        (name,) = paths["/@@roles/{name}"][method]["parameters"]
        pattern = re.compile(name["schema"]["pattern"])
        assert (
            pattern.search("counter") and not pattern.search("µ©") and not pattern.search("Counter")
        )
    for path in ("/@@who", "/{resource}/@@who"):
        (permission,) = [p for p in paths[path]["get"]["parameters"] if p["name"] == "permission"]
        assert "stock.view" in permission["schema"]["enum"]
        assert "" not in permission["schema"]["enum"]
        (limit,) = [p for p in paths[path]["get"]["parameters"] if p["name"] == "limit"]
        assert limit["allowEmptyValue"] is True  # limit= is the default page size
