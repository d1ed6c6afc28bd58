"""Events other plugins rely on: notified after commit, never for a rollback."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from plinth_stock.events import ReservationExpired, StockChanged


@pytest.fixture
def received(plinth_registry: Any) -> Iterator[list[Any]]:
    events: list[Any] = []
    handler = events.append
    for kind in (StockChanged, ReservationExpired):
        plinth_registry.registerHandler(handler, (kind,))
    yield events
    for kind in (StockChanged, ReservationExpired):
        plinth_registry.unregisterHandler(handler, (kind,))


def test_stock_changed_after_commit_only(
    as_principal: Any, received: list[Any], clock: Any
) -> None:
    admin = as_principal("user:root", "group:admins")
    admin.put_json("/locations/WH1", {"name": "one"})
    admin.put_json("/stock/A-1", {"name": "item"})
    admin.post_json("/locations/WH1/A-1/movements", {"kind": "receipt", "quantity": 5})
    assert received == [StockChanged("A-1", "WH1", "receipt", 5, 5, 0)]
    admin.post_json("/locations/WH1/A-1/movements", {"kind": "issue", "quantity": 50}, status=409)
    assert len(received) == 1  # the failed request rolled back: no event
    reservation = admin.post_json(
        "/locations/WH1/A-1/reservations", {"quantity": 2, "reference": "r1", "ttl_seconds": 60}
    ).json
    assert received[-1] == StockChanged("A-1", "WH1", "reservation", 0, 5, 2)
    clock.advance(seconds=61)
    admin.post_json("/locations/WH1/A-1/movements", {"kind": "issue", "quantity": 5})
    assert ReservationExpired(reservation["id"], 2) in received
    assert received[-1] == StockChanged("A-1", "WH1", "issue", -5, 0, 0)


def test_auth_events_are_notified(
    plinth_registry: Any, admin: dict[str, str], testapp: Any
) -> None:
    from plinth_auth import events

    seen: list[Any] = []
    plinth_registry.registerHandler(seen.append, (events.UserCreated,))
    try:
        testapp.put_json("/auth/users/wes", {"password": "ws-secret-pass-1"}, headers=admin)
    finally:
        plinth_registry.unregisterHandler(seen.append, (events.UserCreated,))
    assert [e.user for e in seen] == ["wes"] and seen[0].actor == "user:admin"
