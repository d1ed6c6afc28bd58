"""plinth.visibility: which children a caller may see, decided by the permission
engine, with every stored ACL loaded in one statement."""

from __future__ import annotations

from typing import Any

import pytest
from pyramid.authorization import Allow, Deny
from pyramid.request import Request, apply_request_extensions
from sqlalchemy import column, select, table

from plinth.acl import AclEntry, AclResource
from plinth.resources import Resource
from plinth.security import Identity
from plinth.testing import IDENTITY_KEY
from plinth.visibility import Visibility, visible, visible_children


class Shelf(Resource):
    __default_acl__ = [(Deny, "group:nobody", "shelves.view")]


class Shelves(Resource):
    def __getitem__(self, name: str) -> Shelf:
        if not name.isalnum():
            raise KeyError(name)
        return Shelf(self, name)


@pytest.fixture
def request_as(plinth_registry: Any, dbsession: Any) -> Any:
    def make(*principals: str) -> Request:
        request = Request.blank("/")
        request.registry = plinth_registry
        apply_request_extensions(request)  # request.security_version, as the router does
        request.environ[IDENTITY_KEY] = Identity("user:u", frozenset({"user:u", *principals}))
        request.__dict__["db"] = dbsession
        return request

    return make


def store(dbsession: Any, path: str, *entries: tuple[str, str, str], inherit: bool = True) -> None:
    dbsession.add(AclResource(path=path, inherit=inherit, version=1))
    dbsession.flush()
    for position, (action, principal, permission) in enumerate(entries):
        dbsession.add(
            AclEntry(
                path=path,
                position=position,
                action=action,
                principal=principal,
                permission=permission,
            )
        )
    dbsession.flush()


def shelves(request: Request) -> Shelves:
    from plinth.resources import Root

    return Shelves(Root(request), "shelves")


def test_default_and_exceptions(request_as: Any, dbsession: Any, sql_counter: Any) -> None:
    store(dbsession, "/shelves", (Allow, "group:staff", "shelves.view"))
    store(dbsession, "/shelves/s2", (Deny, "group:staff", "shelves.view"))
    store(dbsession, "/shelves/s3", (Allow, "group:staff", "other.permission"))
    store(dbsession, "/shelves/s2/deeper", (Allow, "group:staff", "shelves.view"))
    request = request_as("group:staff")
    with sql_counter() as counter:
        seen = visible_children(request, shelves(request), "shelves.view")
    assert counter.count == 1, counter.statements
    # s3's entries do not change its decision: not an exception
    assert seen == Visibility(True, {"s2": False})
    assert (seen.allows("s1"), seen.allows("s2"), seen.allows("s3")) == (True, False, True)
    assert not seen.everything and seen.hidden == ["s2"]
    # candidates: only those allowed, in order, their lineages in one statement
    fresh = request_as("group:staff")
    container = shelves(fresh)
    with sql_counter() as counter:
        kept = visible(fresh, "shelves.view", [container[n] for n in ("s3", "s2", "s1")])
    assert [shelf.__name__ for shelf in kept] == ["s3", "s1"]
    assert counter.count == 1, counter.statements


def test_grants_on_some_children_only(request_as: Any, dbsession: Any) -> None:
    store(dbsession, "/shelves/a1", (Allow, "group:staff", "shelves.view"))
    store(dbsession, "/shelves/b2", (Allow, "group:staff", "shelves.view"))
    store(dbsession, "/shelves/c3", (Allow, "group:other", "shelves.view"))
    seen = visible_children(
        request_as("group:staff"), shelves(request_as("group:staff")), "shelves.view"
    )
    assert seen == Visibility(False, {"a1": True, "b2": True})
    assert seen.shown == ["a1", "b2"]


def test_code_defaults_and_names_that_cannot_be_children(request_as: Any, dbsession: Any) -> None:
    store(dbsession, "/", (Allow, "system.Authenticated", "shelves.view"))
    store(dbsession, "/shelves/not a child!", (Deny, "group:staff", "shelves.view"))
    request = request_as("group:nobody")
    # the child's code default denies group:nobody everywhere
    assert visible_children(request, shelves(request), "shelves.view") == Visibility(False)
    staff = request_as("group:staff")
    assert visible_children(staff, shelves(staff), "shelves.view").everything


def test_inherit_false_on_a_child_hides_it(request_as: Any, dbsession: Any) -> None:
    store(dbsession, "/shelves", (Allow, "group:staff", "shelves.view"))
    store(dbsession, "/shelves/s1", inherit=False)
    request = request_as("group:staff")
    assert visible_children(request, shelves(request), "shelves.view").hidden == ["s1"]


def test_like_wildcards_in_the_container_path_are_literal(request_as: Any, dbsession: Any) -> None:
    store(dbsession, "/shelvesX/s1", (Allow, "group:staff", "shelves.view"))
    request = request_as("group:staff")
    container = Shelves(shelves(request).__parent__, "shelve_")
    assert visible_children(request, container, "shelves.view") == Visibility(False)


def test_where_is_a_sql_condition(dbsession: Any) -> None:
    names = table("names", column("name"))
    for visibility, expected in (
        (Visibility(True), "name IS NOT NULL"),
        (Visibility(True, {"b": False}), "NOT IN"),
        (Visibility(False, {"a": True}), "IN"),
        (Visibility(False), "1 != 1"),
    ):
        sql = str(
            select(names.c.name)
            .where(visibility.where(names.c.name))
            .compile(compile_kwargs={"literal_binds": True})
        )
        assert expected in sql or (expected == "1 != 1" and "false" in sql.lower()), sql


def test_the_acl_cache_is_per_request(request_as: Any, dbsession: Any) -> None:
    request = request_as("group:staff")
    assert not visible_children(request, shelves(request), "shelves.view").default
    store(dbsession, "/shelves", (Allow, "group:staff", "shelves.view"))
    # one request decides with the ACLs it read once; the next one reads them anew
    assert not visible_children(request, shelves(request), "shelves.view").default
    later = request_as("group:staff")
    assert visible_children(later, shelves(later), "shelves.view").everything


def test_a_superuser_sees_every_child_without_a_statement(
    request_as: Any, dbsession: Any, sql_counter: Any
) -> None:
    store(dbsession, "/shelves/s1", (Deny, "group:admins", "shelves.view"))
    request = request_as("group:admins")
    with sql_counter() as counter:
        assert visible_children(request, shelves(request), "shelves.view").everything
        assert len(visible(request, "shelves.view", [shelves(request)["s1"]])) == 1
    assert counter.count == 0
