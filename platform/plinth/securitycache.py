"""Per-process caches of security data, each value valid for one security version.

A value (a token's principals, a path's stored ACL, a role's expansion) is
stored with the security version read earlier in the same transaction, and is
used only by a request that read that same version.  Since every change to
security data bumps the version in its own transaction
(:mod:`plinth.securityversion`), the first request that can see a change reads
a new version and misses: caches are correct by construction, on every
process, with no timeout.

Data loaded after the version was read is never older than it (a transaction
sees its own earlier snapshot or a later one), so a value is never kept under
a version that predates what it holds.

A request that may write (POST, PUT, PATCH, DELETE) uses the caches only
until its transaction sends its first write (:func:`plinth.db.has_written`):
up to then it sees committed data alone, as a read does, so its
authorization (identity, ACLs, roles) is decided from the caches and fills
them; from then on it may see its own uncommitted changes, which must not
reach a cache shared with other requests (it may yet roll back), nor be
hidden from it by one.  Requests that cannot write (GET, HEAD, OPTIONS)
always use them.

A warm authorized read costs one statement when its context can read its data
together with the version (``prefetch_with_version``, see
:func:`request_security_version`); otherwise the version is read together
with the stored ACLs of the context's lineage.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

from cachetools import LRUCache
from prometheus_client import Counter

from .acl import lineage, load_stored_with_version, path_of
from .db import SAFE_METHODS, has_written
from .securityversion import current_version
from .settings import positive_int

T = TypeVar("T")
MISSING: Any = object()
CACHES_KEY = "plinth.security_caches"
SIZE_KEY = "plinth.security_cache_size"
# Stored ACLs read in the statement that read the request's version.
READ_WITH_VERSION = "_plinth_acls_read_with_version"

LOOKUPS = Counter(
    "plinth_security_cache_lookups",
    "per-process security cache lookups, by cache and result",
    ["cache", "result"],
)


class VersionedCache:
    """A bounded, thread-safe LRU map whose values count for one version."""

    def __init__(self, name: str, maxsize: int):
        self.name = name
        self._data: LRUCache[Any, tuple[int, Any]] = LRUCache(maxsize)
        self._lock = threading.Lock()
        self._hit = LOOKUPS.labels(name, "hit")
        self._miss = LOOKUPS.labels(name, "miss")

    def get(self, key: Any, version: int) -> Any:
        """The value stored for ``key`` at ``version``, or :data:`MISSING`."""
        with self._lock:
            found = self._data.get(key)
        if found is not None and found[0] == version:
            self._hit.inc()
            return found[1]
        self._miss.inc()
        return MISSING

    def put(self, key: Any, version: int, value: Any) -> None:
        with self._lock:
            found = self._data.get(key)
            # A slow request of an older version must not replace a newer value.
            if found is None or found[0] <= version:
                self._data[key] = (version, value)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()

    def __len__(self) -> int:
        return len(self._data)


def security_cache(registry: Any, name: str) -> VersionedCache:
    """The process's cache called ``name`` (made on first use, sized by
    ``plinth.security_cache_size``)."""
    caches = registry.setdefault(CACHES_KEY, {})
    cache = caches.get(name)
    if cache is None:
        cache = caches.setdefault(name, VersionedCache(name, registry.settings[SIZE_KEY]))
    return cache  # type: ignore[no-any-return]


def uses_caches(request: Any) -> bool:
    """Whether ``request`` may use the shared caches now (see the module's text)."""
    return request.method in SAFE_METHODS or not has_written(request.db)


def request_security_version(request: Any) -> int:
    """``request.security_version``: the version this request's caches use.

    A context with ``prefetch_with_version(request)`` reads its own data in
    the statement that reads the version (and returns it, or None when it
    has nothing to read for this request): one statement for both.
    """
    context = getattr(request, "context", None)
    prefetch = getattr(context, "prefetch_with_version", None)
    if prefetch is not None:
        version = prefetch(request)
        if version is not None:
            return int(version)
    if context is not None and uses_caches(request):
        # Otherwise the stored ACLs of the context's lineage, which its
        # permission check needs first, come with the version.
        paths = [path_of(r) for r in lineage(context)]
        version, stored = load_stored_with_version(request.db, paths)
        request.__dict__[READ_WITH_VERSION] = {p: stored.get(p, (True, [])) for p in paths}
        return version
    return current_version(request.db.connection())


def version_unknown(request: Any) -> bool:
    """Whether a request that uses the caches has yet to read its version
    (so that whoever reads next may read it in the same statement)."""
    return uses_caches(request) and "security_version" not in request.__dict__


def set_version(request: Any, version: int) -> None:
    """Record the version a statement read for ``request`` (see
    :func:`version_unknown`); ``request.security_version`` returns it."""
    request.__dict__["security_version"] = int(version)


def cached(request: Any, cache: VersionedCache, key: Any, load: Callable[[], T]) -> T:
    """``load()``'s value for ``key``, from ``cache`` while the version holds.

    A None is not kept: unknown keys (a mistyped token) would evict real
    entries.
    """
    if not uses_caches(request):
        return load()
    version = request.security_version
    value = cache.get(key, version)
    if value is MISSING:
        value = load()
        if value is not None:
            cache.put(key, version, value)
    return value  # type: ignore[no-any-return]


class VersionedAcls(dict[str, Any]):
    """A request's lineage-ACL cache backed by the process's, at one version.

    The ACL engine reads and fills it like a plain dict (``in``, ``[]``); the
    process cache is consulted on ``in`` and filled on assignment.
    """

    def __init__(self, request: Any, cache: VersionedCache, version: int):
        super().__init__()
        self._request = request
        self._cache = cache
        self._version = version

    def __contains__(self, path: object) -> bool:
        if dict.__contains__(self, path):
            return True
        if not isinstance(path, str) or not uses_caches(self._request):
            return False
        value = self._cache.get(path, self._version)
        if value is MISSING:
            return False
        dict.__setitem__(self, path, value)
        return True

    def __setitem__(self, path: str, value: Any) -> None:
        inherit, entries = value
        frozen = (inherit, tuple(entries))
        dict.__setitem__(self, path, frozen)
        if uses_caches(self._request):
            self._cache.put(path, self._version, frozen)


def request_acl_cache(request: Any) -> dict[str, Any]:
    """The dict the ACL engine keeps a request's lineage ACLs in."""
    if uses_caches(request):
        acls = VersionedAcls(
            request, security_cache(request.registry, "acl.lineage"), request.security_version
        )
        for path, stored in request.__dict__.pop(READ_WITH_VERSION, {}).items():
            acls[path] = stored
        return acls
    return {}


def clear_all(registry: Any) -> None:
    for cache in registry.get(CACHES_KEY, {}).values():
        cache.clear()


def includeme(config: Any) -> None:
    config.plinth_setting(SIZE_KEY, 10000, positive_int)
    config.registry.setdefault(CACHES_KEY, {})
    config.add_request_method(request_security_version, "security_version", reify=True)
