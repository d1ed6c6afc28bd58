"""The per-process security caches: bounded, versioned, counted."""

from __future__ import annotations

from typing import Any

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import text

from plinth import make_app
from plinth.securitycache import MISSING, VersionedCache, security_cache
from plinth.settings import SettingError


def lookups(cache: str, result: str) -> float:
    value = REGISTRY.get_sample_value(
        "plinth_security_cache_lookups_total", {"cache": cache, "result": result}
    )
    return value or 0.0


def test_a_value_counts_only_for_the_version_it_was_read_at() -> None:
    cache = VersionedCache("test.versions", 10)
    cache.put("t", 7, "principals")
    assert cache.get("t", 7) == "principals"
    assert cache.get("t", 8) is MISSING
    assert cache.get("other", 7) is MISSING


def test_an_older_read_does_not_replace_a_newer_value() -> None:
    cache = VersionedCache("test.order", 10)
    cache.put("t", 8, "new")
    cache.put("t", 7, "old")  # a slow request that read version 7
    assert cache.get("t", 8) == "new"
    cache.put("t", 9, "newer")
    assert cache.get("t", 9) == "newer"


def test_memory_is_bounded_least_recently_used_first() -> None:
    cache = VersionedCache("test.bounded", 3)
    for key in "abc":
        cache.put(key, 1, key.upper())
    assert cache.get("a", 1) == "A"  # a is now the most recently used
    cache.put("d", 1, "D")
    assert len(cache) == 3
    assert cache.get("b", 1) is MISSING
    assert [cache.get(k, 1) for k in "acd"] == ["A", "C", "D"]


def test_hits_and_misses_are_counted() -> None:
    cache = VersionedCache("test.metrics", 3)
    hits, misses = lookups("test.metrics", "hit"), lookups("test.metrics", "miss")
    cache.get("k", 1)
    cache.put("k", 1, "v")
    cache.get("k", 1)
    cache.get("k", 2)
    assert lookups("test.metrics", "hit") == hits + 1
    assert lookups("test.metrics", "miss") == misses + 2


def test_the_caches_are_sized_by_the_setting(plinth_app: Any) -> None:
    registry = plinth_app.registry
    assert registry.settings["plinth.security_cache_size"] == 10000
    assert security_cache(registry, "acl.lineage") is security_cache(registry, "acl.lineage")


def test_a_cached_token_still_expires_on_time(
    plinth_app: Any, testapp: Any, make_user: Any, login: Any, plinth_engine: Any, clock: Any
) -> None:
    make_user("eve", "staff")
    headers = login("eve")
    with plinth_engine.connect() as connection:
        version = connection.execute(text("SELECT version FROM security_version")).scalar()
    testapp.get("/auth/whoami", headers=headers, status=200)
    hits = lookups("auth.tokens", "hit")
    testapp.get("/auth/whoami", headers=headers, status=200)
    assert lookups("auth.tokens", "hit") == hits + 1  # served from the cache
    clock.advance(seconds=plinth_app.registry.settings["auth.token_ttl"] + 1)
    # nothing changed in the database: the cached expiry decides
    testapp.get("/auth/whoami", headers=headers, status=401)
    with plinth_engine.connect() as connection:
        assert connection.execute(text("SELECT version FROM security_version")).scalar() == version


def test_a_bad_cache_size_stops_start_up_naming_the_key(plinth_settings: dict[str, Any]) -> None:
    with pytest.raises(SettingError, match=r"plinth\.security_cache_size"):
        make_app({**plinth_settings, "plinth.security_cache_size": "0"})


def test_a_write_uses_the_caches_only_until_its_first_write(tmp_path: Any) -> None:
    """Before its first write a transaction sees committed data only, as a
    read does: its authorization is served from the caches and fills them.
    After it, it may see its own uncommitted changes: it neither fills the
    shared caches nor is served from them."""
    from sqlalchemy import Column, Integer, MetaData, String, Table, insert
    from webtest import TestApp

    from plinth import make_configurator, schema
    from plinth.interfaces import IReadEngine
    from plinth.security import acl_cache
    from plinth.securitycache import cached
    from plinth.services import get_service

    notes = Table(
        "test_cache_notes", MetaData(), Column("id", Integer, primary_key=True), Column("t", String)
    )
    config = make_configurator(
        {"sqlalchemy.url": f"sqlite:///{tmp_path / 'w.sqlite'}", "plinth.plugins": ""}
    )

    def probe(request: Any) -> dict[str, Any]:
        values = security_cache(request.registry, "test.writes")
        acls = acl_cache(request)
        seen = {"before": cached(request, values, "before", lambda: "read before writing")}
        acls["/clean"] = (True, [])
        request.db.execute(insert(notes).values(t="written"))
        seen["after"] = cached(request, values, "after", lambda: "read after writing")
        seen["before again"] = cached(request, values, "before", lambda: "read again")
        acls["/dirty"] = (True, [])
        seen["shared path"] = "/shared" in acls
        return {"seen": seen, "version": request.security_version}

    config.add_route("probe", "/probe")
    config.add_view(probe, route_name="probe", renderer="json", public=True, request_method="POST")
    app = config.make_wsgi_app()
    engine = get_service(app.registry, IReadEngine)
    schema.upgrade(app.registry, engine)
    notes.create(engine)
    with engine.connect() as connection:
        version = connection.execute(text("SELECT version FROM security_version")).scalar()
    lineage = security_cache(app.registry, "acl.lineage")
    lineage.put("/shared", version, (True, ()))

    body = TestApp(app).post("/probe", status=200).json
    assert body["version"] == version
    assert body["seen"] == {
        "before": "read before writing",
        "after": "read after writing",
        "before again": "read again",  # not served from the cache once written
        "shared path": False,
    }
    values = security_cache(app.registry, "test.writes")
    assert values.get("before", version) == "read before writing"  # filled while clean
    assert values.get("after", version) is MISSING
    assert lineage.get("/clean", version) == (True, ())
    assert lineage.get("/dirty", version) is MISSING
