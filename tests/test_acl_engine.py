"""The engine against a small reference model of Pyramid's ACL semantics."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from pyramid.authorization import ALL_PERMISSIONS, DENY_ALL, ACLHelper

from plinth.acl import ALL, Entry, ResourceAcl, decide

PRINCIPALS = ["system.Everyone", "system.Authenticated", "user:a", "user:b", "group:x", "group:y"]
PERMISSIONS = ["p.read", "p.write", "p.admin"]


class Node:
    """A resource for Pyramid's own ACLHelper: its effective __acl__."""

    def __init__(self, name: str, parent: Any, acl: list[Any]):
        self.__name__ = name
        self.__parent__ = parent
        self.__acl__ = acl


entry = st.tuples(
    st.sampled_from(["Allow", "Deny"]),
    st.sampled_from(PRINCIPALS),
    st.sampled_from([*PERMISSIONS, ALL]),
)
level = st.tuples(st.lists(entry, max_size=4), st.lists(entry, max_size=2), st.booleans())


def reference(levels: list[Any], principals: set[str], permission: str) -> bool:
    """Pyramid's rule written out: first match up the lineage, Deny stops,
    inherit=false stops, no match denies."""
    for stored, defaults, inherit in levels:
        for action, principal, perm in [*stored, *defaults]:
            if principal in principals and perm in (permission, ALL):
                return action == "Allow"
        if not inherit:
            return False
    return False


def engine(levels: list[Any], principals: set[str], permission: str) -> bool:
    acls = []
    for depth, (stored, defaults, inherit) in enumerate(levels):
        path = "/" + "/".join(str(i) for i in range(depth))
        entries = tuple(
            Entry(path, i, a, p, perm, "stored") for i, (a, p, perm) in enumerate(stored)
        )
        entries += tuple(
            Entry(path, i, a, p, perm, "default") for i, (a, p, perm) in enumerate(defaults)
        )
        acls.append(ResourceAcl(path, inherit, entries))
    return decide(acls, principals, permission).allowed


def pyramid(levels: list[Any], principals: set[str], permission: str) -> bool:
    """Pyramid's ACLHelper on the same tree, inherit=false as a trailing DENY_ALL."""
    parent = None
    nodes = []
    for stored, defaults, inherit in reversed(levels):
        acl = [
            (a, p, ALL_PERMISSIONS if perm == ALL else perm) for a, p, perm in [*stored, *defaults]
        ]
        if not inherit:
            acl.append(DENY_ALL)
        parent = Node(str(len(nodes)), parent, acl)
        nodes.append(parent)
    return bool(ACLHelper().permits(parent, principals, permission))


@settings(max_examples=300, deadline=None)
@given(
    levels=st.lists(level, min_size=1, max_size=5),
    principals=st.sets(st.sampled_from(PRINCIPALS)),
    permission=st.sampled_from(PERMISSIONS),
)
def test_engine_matches_reference_and_pyramid(
    levels: list[Any], principals: set[str], permission: str
) -> None:
    principals = principals | {"system.Everyone"}  # every request holds it
    expected = reference(levels, principals, permission)
    assert engine(levels, principals, permission) == expected
    assert pyramid(levels, principals, permission) == expected
