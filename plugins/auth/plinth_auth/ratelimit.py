"""Failed-login limits per account and per client address.

Kept in memory by default; with ``auth.ratelimit_storage = redis://...`` every
process shares them.  Only failures count, and only password logins are
limited: an attacker hammering an account cannot take away its owner's
existing tokens.

The account limit counts failed attempts on one account.  The client limit
counts the *accounts* a client address failed on: guessing many accounts from
one address (credential stuffing) is stopped at the same number, while one
user mistyping one password, however often, is the account limit's business
and does not lock out the colleagues behind the same address.

When the storage cannot be reached (a Redis outage), ``auth.ratelimit_failure``
decides: ``open`` (the default) lets logins through unlimited, counting each
failure in ``plinth_auth_ratelimit_storage_errors_total`` and logging a
warning; ``closed`` refuses password logins with a JSON 503 until the storage
is back.  Neither ever turns a login into a 500.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from limits import RateLimitItemPerSecond
from limits.errors import StorageError
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter
from prometheus_client import Counter
from pyramid.exceptions import ConfigurationError
from zope.interface import implementer

from plinth.api import ILoginLimiter, LimiterUnavailable

log = logging.getLogger(__name__)

FAILURE_POLICIES = ("open", "closed")

STORAGE_ERRORS = Counter(
    "plinth_auth_ratelimit_storage_errors",
    "login rate-limit checks that could not reach their storage",
    ["policy"],
)

# A Redis that stops answering must not hold a login thread for long.
REDIS_TIMEOUTS = {"socket_timeout": 1.0, "socket_connect_timeout": 1.0}

T = TypeVar("T")


def failure_policy(value: Any) -> str:
    """Converter for ``auth.ratelimit_failure``."""
    text = str(value).strip().lower()
    if text not in FAILURE_POLICIES:
        raise ValueError("expected 'open' or 'closed'")
    return text


@implementer(ILoginLimiter)
@dataclass
class LoginLimiter:
    limiter: MovingWindowRateLimiter
    storage: Any
    per_account: RateLimitItemPerSecond
    per_client: RateLimitItemPerSecond
    once: RateLimitItemPerSecond  # one hit per window: "first failure of this pair"
    failure: str = "open"

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> LoginLimiter:
        uri = settings["auth.ratelimit_storage"]
        options: dict[str, Any] = {"wrap_exceptions": True}
        if uri.startswith(("redis://", "rediss://", "redis+unix://")):
            options.update(REDIS_TIMEOUTS)
        try:
            storage = storage_from_string(uri, **options)
        except Exception as exc:  # noqa: BLE001 - limits raises several kinds
            raise ConfigurationError(
                f"setting 'auth.ratelimit_storage' has a bad value {uri!r}: {exc}"
            ) from None
        window = settings["auth.login_window"]
        return cls(
            MovingWindowRateLimiter(storage),
            storage,
            RateLimitItemPerSecond(settings["auth.login_attempts"], window),
            RateLimitItemPerSecond(settings["auth.client_login_attempts"], window),
            RateLimitItemPerSecond(1, window),
            settings.get("auth.ratelimit_failure", "open"),
        )

    def _guarded(self, operation: Callable[[], T], fallback: T) -> T:
        """Run ``operation`` on the storage, applying the failure policy if it is down."""
        try:
            return operation()
        except StorageError as exc:
            STORAGE_ERRORS.labels(self.failure).inc()
            if self.failure == "closed":
                log.error(
                    "login rate-limit storage unreachable, refusing logins: %s", exc.storage_error
                )
                raise LimiterUnavailable() from exc
            log.warning(
                "login rate-limit storage unreachable, logins are not limited: %s",
                exc.storage_error,
            )
            return fallback

    def _checks(self, username: str, client: str) -> list[tuple[Any, str, str]]:
        return [
            (self.per_account, "account", username.lower()),
            (self.per_client, "client", client),
        ]

    def retry_after(self, username: str, client: str) -> int | None:
        """Seconds to wait if either limit is used up, else None.

        Raises LimiterUnavailable when the storage is down and the policy is closed.
        """
        return self._guarded(lambda: self._retry_after(username, client), None)

    def failed(self, username: str, client: str) -> None:
        """Count a failed login (subject to the failure policy, like retry_after)."""
        self._guarded(lambda: self._failed(username, client), None)

    def _retry_after(self, username: str, client: str) -> int | None:
        waits = []
        for item, scope, key in self._checks(username, client):
            if not self.limiter.test(item, "login", scope, key):
                stats = self.limiter.get_window_stats(item, "login", scope, key)
                waits.append(max(1, math.ceil(stats.reset_time - time.time())))
        return max(waits) if waits else None

    def _failed(self, username: str, client: str) -> None:
        account = username.lower()
        self.limiter.hit(self.per_account, "login", "account", account)
        # The client's count goes up once per account it fails on in a window.
        if self.limiter.hit(self.once, "login", "pair", client, account):
            self.limiter.hit(self.per_client, "login", "client", client)

    def reset(self) -> None:
        self.storage.reset()
