"""``PUT @@acl?dry_run=true``: the decisions a change would flip, and nothing else."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyramid.traversal import find_resource
from test_who import USERS, add_people, people, root_for

from plinth import acladmin, roles
from plinth.acl import decide, lineage_acls
from plinth.dryrun import holds
from plinth.security import superuser_among
from plinth.testing import acl_entry as grant

PATHS = ["/", "/locations", "/locations/WH1", "/locations/WH2"]
PRINCIPALS = [
    "system.Everyone",
    "system.Authenticated",
    "user:ann",
    "user:bob",
    "group:g1",
    "group:g2",
    "group:admins",
]

entry = st.fixed_dictionaries(
    {
        "action": st.sampled_from(["Allow", "Deny"]),
        "principal": st.sampled_from(PRINCIPALS),
        "permission": st.sampled_from(["stock.view", "stock.adjust", "ALL", "role:stock.clerk"]),
    }
)
acls = st.fixed_dictionaries(
    dict.fromkeys(PATHS, st.tuples(st.lists(entry, max_size=4), st.booleans()))
)
# The permissions the entries speak about (stock.clerk holds view, receive,
# issue, reserve) and one they never name.
ASKED = ["stock.view", "stock.adjust", "stock.receive", "acl.manage"]
change = st.tuples(
    st.sampled_from(PATHS[:3]), st.lists(entry, max_size=4), st.one_of(st.none(), st.booleans())
)


def matrix(db: Any, registry: Any, root: Any) -> dict[tuple[str, str, str], bool]:
    """Every decision of every named principal alone and of every active user."""
    table = roles.role_table(db, registry)
    result = {}
    for path in PATHS:
        lineage = lineage_acls(find_resource(root, path), db, {})
        callers = {p: holds(db, registry, p) for p in [*PRINCIPALS, "group:nobody"]}
        callers |= {f"user:{u}": holds(db, registry, f"user:{u}") for u in USERS}
        for principal, principals in callers.items():
            for permission in ASKED:
                result[principal, permission, path] = bool(
                    superuser_among(registry, principals)
                    or decide(lineage, principals, permission, table).allowed
                )
    return result


@pytest.mark.filterwarnings("ignore")
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(tree=acls, who=people, edit=change)
def test_applying_a_change_flips_exactly_what_the_dry_run_listed(
    plinth_registry: Any, dbsession: Any, tree: dict[str, Any], who: dict[str, Any], edit: Any
) -> None:
    savepoint = dbsession.begin_nested()
    try:
        add_people(dbsession, {**who, "ann": (who["ann"][0], True)})
        root = root_for(plinth_registry, dbsession)
        for path, (entries, inherit) in tree.items():
            acladmin.replace_acl(
                dbsession, plinth_registry, find_resource(root, path), entries, inherit, "test"
            )
        path, entries, inherit = edit
        resource = find_resource(root, path)
        listed = acladmin.preview_acl(dbsession, plinth_registry, resource, entries, inherit)[
            "changes"
        ]
        before = matrix(dbsession, plinth_registry, root)
        acladmin.replace_acl(dbsession, plinth_registry, resource, entries, inherit, "test")
        after = matrix(dbsession, plinth_registry, root)
        flipped = {key for key in before if before[key] != after[key]}
        expected = {
            (c["principal"], c["permission"], c["resource"])
            for c in listed
            if c["permission"] in ASKED
        }
        active = {f"user:{u}" for u, (_, on) in who.items() if on} | {"user:ann"}
        related = [
            p
            for p in PATHS
            if path.startswith(p.rstrip("/") + "/")
            or p == path
            or p.startswith(path.rstrip("/") + "/")
        ]
        named = {e["principal"] for p in related for e in tree[p][0]}
        named |= {e["principal"] for e in entries} | {"system.Everyone", "system.Authenticated"}
        # every active user and every principal an entry names, exactly
        exact = active | named
        assert {k for k in flipped if k[0] in exact} == {k for k in expected if k[0] in exact}
        assert {k[0] for k in expected} <= exact
        # a group no entry names decides like system.Authenticated
        for principal, permission, where in flipped:
            if principal == "group:nobody":
                assert ("system.Authenticated", permission, where) in expected
        for change_ in listed:
            if change_["permission"] not in ASKED:
                continue
            key = (change_["principal"], change_["permission"], change_["resource"])
            assert change_["before"] == ("Allow" if before[key] else "Deny")
            assert change_["after"] == ("Allow" if after[key] else "Deny")
    finally:
        savepoint.rollback()


@pytest.fixture
def root(as_principal: Any) -> Any:
    root = as_principal("user:root", "group:admins")
    for code in ("WH1", "WH2"):
        root.put_json(f"/locations/{code}", {"name": code})
    return root


def test_dry_run_lists_flips_and_writes_nothing(root: Any, make_user: Any) -> None:
    make_user("rita", "clerks")
    root.put_json(
        "/locations/WH1/A-1/@@acl",
        {"entries": [grant("user:rita", "stock.issue", "Deny")]},
        status="*",
    )
    audit_before = root.get("/@@audit").json["items"]
    etag = root.get("/locations/WH1/@@acl").headers["ETag"]
    body = root.put_json(
        "/locations/WH1/@@acl?dry_run=true",
        {"entries": [grant("group:clerks", "role:stock.clerk")]},
        headers={"If-Match": etag},
    ).json
    assert body["dry_run"] is True
    changes = {
        (c["principal"], c["permission"], c["resource"]): (c["before"], c["after"])
        for c in body["changes"]
    }
    assert changes[("group:clerks", "stock.receive", "/locations/WH1")] == ("Deny", "Allow")
    assert changes[("user:rita", "stock.receive", "/locations/WH1")] == ("Deny", "Allow")
    assert ("group:clerks", "stock.adjust", "/locations/WH1") not in changes
    assert not any(p == "group:admins" for p, _, _ in changes)
    assert root.get("/locations/WH1/@@acl").json["entries"] == []
    assert root.get("/locations/WH1/@@acl").headers["ETag"] == etag
    assert root.get("/@@audit").json["items"] == audit_before


def test_a_dry_run_checks_like_the_write(root: Any, as_principal: Any) -> None:
    root.put_json(
        "/locations/WH1/@@acl",
        {"entries": [grant("group:leads", "acl.manage"), grant("group:leads", "stock.view")]},
    )
    lead = as_principal("user:lea", "group:leads")
    keep = [grant("group:leads", "acl.manage"), grant("group:leads", "stock.view")]
    denied = lead.put_json(
        "/locations/WH1/@@acl?dry_run=true",
        {"entries": [*keep, grant("user:x", "stock.adjust")]},
        status=403,
    )
    real = lead.put_json(
        "/locations/WH1/@@acl", {"entries": [*keep, grant("user:x", "stock.adjust")]}, status=403
    )
    assert denied.json == real.json
    bad = root.put_json(
        "/locations/WH1/@@acl?dry_run=true", {"entries": [grant("user:x", "role:nope")]}, status=400
    )
    assert bad.json["error"] == "invalid_acl"
    assert (
        root.put_json("/locations/WH1/@@acl?dry_run=yes", {"entries": []}, status=400).json["error"]
        == "invalid_request"
    )
    assert (
        root.put_json(
            "/locations/WH1/@@acl?dry_run=true",
            {"entries": []},
            headers={"If-Match": '"acl-99"'},
            status=412,
        ).json["error"]
        == "precondition_failed"
    )
