"""Events the stock plugin notifies after a transaction commits.

Other plugins subscribe with ``config.add_subscriber(handler, StockChanged)``;
they never see a change that was rolled back.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class StockChanged:
    sku: str
    location: str
    kind: str  # receipt, issue, adjustment, transfer, reservation, release
    change: int  # signed change to on hand
    on_hand: int
    reserved: int


@dataclass(frozen=True)
class ReservationExpired:
    reservation_id: str
    quantity: int
