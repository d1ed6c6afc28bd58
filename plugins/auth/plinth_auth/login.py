"""Checking a login: the limits, the password, and the audit of a failure.

``POST /auth/tokens`` and the admin console's sign-in form answer in their own
way (JSON, an HTML form) but follow one rule, kept here: the per-account and
per-client limits (with the storage's failure policy), one answer for a wrong
password and an unknown user, the password checked outside the write
transaction, and a failed login audited after the request's transaction.
"""

from __future__ import annotations

from pyramid.request import Request

from plinth.api import ILoginLimiter, IReadEngine, LimiterUnavailable

from . import events, services
from .models import User

# Seconds a client waits before trying again while the limits' storage is away.
UNAVAILABLE_RETRY_AFTER = 5


class LoginRefused(Exception):
    """A login that does not go through; ``reason`` says why.

    ``"rate_limited"`` and ``"unavailable"`` come with ``retry_after``
    seconds; ``"invalid_credentials"`` covers a wrong password and an unknown
    user alike.
    """

    def __init__(self, reason: str, retry_after: int | None = None):
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


def check_login(request: Request, username: str, password: str, audit_reason: str) -> User:
    """The user ``username`` if ``password`` is theirs and the limits allow it."""
    limiter = request.find_service(ILoginLimiter)
    client = request.remote_addr or "unknown"
    try:
        wait = limiter.retry_after(username, client)
    except LimiterUnavailable:
        raise LoginRefused("unavailable", UNAVAILABLE_RETRY_AFTER) from None
    if wait is not None:
        raise LoginRefused("rate_limited", wait)
    user = None
    if username and password:
        with request.find_service(IReadEngine).connect() as reader:
            user = services.authenticate(reader, request.db, username, password)
    if user is not None:
        return user
    try:
        limiter.failed(username, client)
    except LimiterUnavailable:
        # The check above passed a moment ago; the failure still answers as one.
        pass
    registry, request_id = request.registry, request.request_id
    request.add_finished_callback(
        lambda _request: registry.notify(
            events.LoginFailed(
                None, None, request_id, username=username, client=client, reason=audit_reason
            )
        )
    )
    raise LoginRefused("invalid_credentials")
