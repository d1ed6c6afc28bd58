"""What time it is, for the core and every plugin; tests put a clock of their own.

Every part of Plinth that stamps or compares a moment (token expiry,
reservations, idempotency keys, the audit log) asks :func:`now`, so that a
test moves time forward with the ``clock`` fixture instead of back-dating
rows.  There is one clock per process, not per registry: services that hold
only a session need it too, and time is the same for every application in
a process.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    """The real time, aware, in UTC."""
    return datetime.now(UTC)


_clock: Clock = system_clock


def now() -> datetime:
    """The current moment (aware, UTC) by the clock in use."""
    return _clock()


@contextmanager
def using(clock: Clock) -> Iterator[Clock]:
    """Use ``clock`` (a callable returning an aware datetime) while in the block."""
    global _clock
    previous, _clock = _clock, clock
    try:
        yield clock
    finally:
        _clock = previous
