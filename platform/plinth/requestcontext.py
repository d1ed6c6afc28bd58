"""The request being served on this thread, for code that is not handed it.

Log records (:mod:`plinth.logs`) and the SQL statement counter
(:mod:`plinth.metrics`) run where no request is passed in: inside logging,
inside SQLAlchemy's events.  The request id tween binds the request here
for as long as the application serves it, its finished callbacks included.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any


@dataclass
class RequestContext:
    """What is known about the request in hand: its id, and what it has cost."""

    request: Any
    request_id: str
    statements: int = 0


_current: ContextVar[RequestContext | None] = ContextVar("plinth_request", default=None)


def current() -> RequestContext | None:
    """The context of the request this thread serves, or None outside one."""
    return _current.get()


def bind(request: Any, request_id: str) -> RequestContext:
    """Make ``request`` the request this thread serves, until :func:`unbind`."""
    context = RequestContext(request, request_id)
    _current.set(context)
    return context


def unbind() -> None:
    """The thread serves no request any more."""
    _current.set(None)
