"""The stock invariants under concurrent requests to two real Waitress processes.

Two server processes share the test database (SQLite or PostgreSQL); 50 client
threads race for 20 units.  Whatever the interleaving, exactly the available
quantity is granted, every other request is a clean 409, and afterwards on hand
equals the ledger and reserved equals the active reservations.  Concurrent PUTs
create a row once, and an ETag lets exactly one of several writers win.

With ``PLINTH_TEST_BASE_URL`` (``http://127.0.0.1:PORT``, e.g. the nginx of
``scripts/stack``) the same tests run against those servers instead, which
must serve the test database (``PLINTH_TEST_DATABASE_URL``).
"""

from __future__ import annotations

import json
import os
import random
from itertools import accumulate
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy import text

from plinth.testservers import call, race

pytestmark = pytest.mark.slow

CLIENTS = 50
SUPPLY = 20
WRITERS = 20  # concurrent PUTs of one item or location


@pytest.fixture(scope="module")
def servers(request: pytest.FixtureRequest) -> list[int]:
    """The two servers' ports, or twice the port of PLINTH_TEST_BASE_URL."""
    base_url = os.environ.get("PLINTH_TEST_BASE_URL")
    if base_url:
        # One address in front of the servers: every request goes through it.
        target = urlsplit(base_url)
        assert target.hostname == "127.0.0.1" and target.port, base_url
        return [target.port, target.port]
    ports: list[int] = request.getfixturevalue("plinth_servers")
    return ports


@pytest.fixture
def token(servers: list[int], testapp: Any, make_user: Any) -> dict[str, str]:
    """An administrator's bearer token, issued by one of the servers.

    ``testapp`` is here so that the tables are emptied after the test.
    """
    from plinth_auth.testing import PASSWORD

    make_user("admin", "admins")
    status, _, body = call(
        servers[0], "POST", "/auth/tokens", {"username": "admin", "password": PASSWORD}
    )
    assert status == 201, body
    return {"Authorization": f"Bearer {body['token']}"}


@pytest.fixture
def supplied(servers: list[int], token: dict[str, str]) -> None:
    """A-1 with SUPPLY on hand at WH1, set up through the servers."""
    port = servers[1]
    assert call(port, "PUT", "/locations/WH1", {"name": "Main"}, token)[0] == 201
    assert call(port, "PUT", "/stock/A-1", {"name": "Anchor"}, token)[0] == 201
    status, _, body = call(
        port, "POST", "/locations/WH1/A-1/movements", {"kind": "receipt", "quantity": SUPPLY}, token
    )
    assert status == 201, body


def database_state(engine: Any) -> dict[str, int]:
    with engine.connect() as connection:
        on_hand, reserved = connection.execute(
            text("SELECT on_hand, reserved FROM stock_levels")
        ).one()
        ledger = connection.execute(
            text("SELECT coalesce(sum(quantity), 0) FROM stock_movements")
        ).scalar_one()
        held = connection.execute(
            text(
                "SELECT coalesce(sum(quantity), 0) FROM stock_reservations WHERE status = 'active'"
            )
        ).scalar_one()
        active = connection.execute(
            text("SELECT count(*) FROM stock_reservations WHERE status = 'active'")
        ).scalar_one()
        moves = connection.execute(text("SELECT count(*) FROM stock_movements")).scalar_one()
    return {
        "on_hand": on_hand,
        "reserved": reserved,
        "ledger": int(ledger),
        "held": int(held),
        "active": active,
        "movements": moves,
    }


def check_refusals(
    results: list[tuple[int, Any, Any]], quantities: list[int], final_available: int
) -> int:
    """Every response is 201 or a justified 409; returns the quantity granted."""
    granted = 0
    statuses = [status for status, _, _ in results]
    assert not [s for s in statuses if s >= 500], statuses
    for (status, _, body), quantity in zip(results, quantities, strict=True):
        if status == 201:
            granted += quantity
            continue
        assert status == 409, body
        assert body["error"] == "insufficient_stock", body
        # availability only fell during the race: what was refused was not there
        assert final_available <= body["details"]["available"] < quantity, body
    return granted


def test_concurrent_reservations_grant_exactly_the_supply(
    servers: list[int], token: dict[str, str], supplied: None, plinth_engine: Any
) -> None:
    requests = [
        ("/locations/WH1/A-1/reservations", {"quantity": 1, "reference": f"SO-{n}"}, token)
        for n in range(CLIENTS)
    ]
    results = race(servers, requests)
    granted = check_refusals(results, [1] * CLIENTS, 0)
    assert granted == SUPPLY
    ids = {body["id"] for status, _, body in results if status == 201}
    assert len(ids) == SUPPLY
    state = database_state(plinth_engine)
    assert state["on_hand"] == state["ledger"] == SUPPLY
    assert state["reserved"] == state["held"] == SUPPLY
    assert state["active"] == SUPPLY
    status, _, item = call(servers[0], "GET", "/stock/A-1", headers=token)
    assert (status, item["stock"], item["reserved"]) == (200, 0, SUPPLY)


def test_concurrent_issues_never_go_below_zero(
    servers: list[int], token: dict[str, str], supplied: None, plinth_engine: Any
) -> None:
    rng = random.Random(20261125)
    quantities = [rng.randint(1, 3) for _ in range(CLIENTS)]
    requests = [
        ("/locations/WH1/A-1/movements", {"kind": "issue", "quantity": q}, token)
        for q in quantities
    ]
    results = race(servers, requests)
    state = database_state(plinth_engine)
    assert state["on_hand"] >= 0
    granted = check_refusals(results, quantities, state["on_hand"])
    assert granted == SUPPLY - state["on_hand"]
    assert state["on_hand"] == state["ledger"]
    assert state["movements"] == 1 + sum(1 for status, _, _ in results if status == 201)
    assert state["reserved"] == state["held"] == 0
    # Each line kept the on hand after it, in the order of the ledger's ids,
    # however the concurrent issues interleaved.
    with plinth_engine.connect() as connection:
        lines = connection.execute(
            text("SELECT quantity, balance FROM stock_movements ORDER BY id")
        ).all()
    assert [balance for _, balance in lines] == list(accumulate(q for q, _ in lines))
    assert lines[-1][1] == state["on_hand"]


def test_concurrent_requests_with_one_idempotency_key_have_one_effect(
    servers: list[int], token: dict[str, str], supplied: None, plinth_engine: Any
) -> None:
    headers = {**token, "Idempotency-Key": "po-4711"}
    body = {"kind": "receipt", "quantity": 5, "reference": "PO-4711"}
    results = race(servers, [("/locations/WH1/A-1/movements", body, headers)] * 10)
    statuses = [status for status, _, _ in results]
    assert statuses == [201] * 10, [r[2] for r in results]
    bodies = {json.dumps(payload, sort_keys=True) for _, _, payload in results}
    assert len(bodies) == 1  # every caller saw the first response
    first = [h for _, h, _ in results if h.get("Idempotent-Replayed") != "true"]
    assert len(first) == 1
    state = database_state(plinth_engine)
    assert state["on_hand"] == state["ledger"] == SUPPLY + 5
    assert state["movements"] == 2


def test_concurrent_creates_of_one_item_and_location(
    servers: list[int], token: dict[str, str], plinth_engine: Any
) -> None:
    results = race(
        servers,
        [("/stock/NEW-1", {"name": f"New {n}"}, token) for n in range(WRITERS)]
        + [("/locations/NEW-L", {"name": f"New {n}"}, token) for n in range(WRITERS)],
        method="PUT",
    )
    statuses = [status for status, _, _ in results]
    assert sorted(statuses[:WRITERS]) == [200] * (WRITERS - 1) + [201], [r[2] for r in results]
    assert sorted(statuses[WRITERS:]) == [200] * (WRITERS - 1) + [201], [r[2] for r in results]
    # every write was applied in turn: each has its own version (and so its own ETag)
    with plinth_engine.connect() as connection:
        assert connection.execute(text("SELECT count(*), max(version) FROM stock_items")).one() == (
            1,
            WRITERS,
        )
        assert connection.execute(
            text("SELECT count(*), max(version) FROM stock_locations")
        ).one() == (1, WRITERS)


def test_concurrent_updates_with_one_etag_let_exactly_one_win(
    servers: list[int], token: dict[str, str], plinth_engine: Any
) -> None:
    for path in ("/stock/A-1", "/locations/WH1"):
        status, headers, _ = call(servers[0], "PUT", path, {"name": "Original"}, token)
        assert status == 201
        etag = {**token, "If-Match": headers["ETag"]}
        results = race(
            servers, [(path, {"name": f"Writer {n}"}, etag) for n in range(WRITERS)], method="PUT"
        )
        statuses = sorted(status for status, _, _ in results)
        assert statuses == [200] + [412] * (WRITERS - 1), [r[2] for r in results]
        winner = next(body["name"] for status, _, body in results if status == 200)
        status, headers, body = call(servers[1], "GET", path, headers=token)
        assert body["name"] == winner
        assert headers["ETag"] != etag["If-Match"]
