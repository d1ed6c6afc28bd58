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
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from limits import RateLimitItemPerSecond
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter
from pyramid.exceptions import ConfigurationError


@dataclass
class LoginLimiter:
    limiter: MovingWindowRateLimiter
    storage: Any
    per_account: RateLimitItemPerSecond
    per_client: RateLimitItemPerSecond
    once: RateLimitItemPerSecond  # one hit per window: "first failure of this pair"

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> LoginLimiter:
        uri = settings["auth.ratelimit_storage"]
        try:
            storage = storage_from_string(uri)
        except Exception as exc:  # noqa: BLE001 - limits raises several kinds
            raise ConfigurationError(
                f"setting 'auth.ratelimit_storage' has a bad value {uri!r}: {exc}") from None
        window = settings["auth.login_window"]
        return cls(
            MovingWindowRateLimiter(storage), storage,
            RateLimitItemPerSecond(settings["auth.login_attempts"], window),
            RateLimitItemPerSecond(settings["auth.client_login_attempts"], window),
            RateLimitItemPerSecond(1, window),
        )

    def _checks(self, username: str, client: str) -> list[tuple[Any, str, str]]:
        return [(self.per_account, "account", username.lower()),
                (self.per_client, "client", client)]

    def retry_after(self, username: str, client: str) -> int | None:
        """Seconds to wait if either limit is used up, else None."""
        waits = []
        for item, scope, key in self._checks(username, client):
            if not self.limiter.test(item, "login", scope, key):
                stats = self.limiter.get_window_stats(item, "login", scope, key)
                waits.append(max(1, math.ceil(stats.reset_time - time.time())))
        return max(waits) if waits else None

    def failed(self, username: str, client: str) -> None:
        account = username.lower()
        self.limiter.hit(self.per_account, "login", "account", account)
        # The client's count goes up once per account it fails on in a window.
        if self.limiter.hit(self.once, "login", "pair", client, account):
            self.limiter.hit(self.per_client, "login", "client", client)

    def reset(self) -> None:
        self.storage.reset()
