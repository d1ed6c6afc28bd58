"""/stock, /locations and /reservations.

Resources are cheap: traversal only checks the shape of names, and the data is
read by the view.  An item reads its levels together with the security
version, so that an authorized ``GET /stock/{sku}`` costs one statement once
the caches of tokens and ACLs are warm: the caller's identity, the item's ACL
lineage and the ACLs of its levels' locations (which of them the caller may
see) all come from the per-process caches at that version.  A movement or a
reservation reads its place (the item's and the location's ids) with the
version in the same way, so that its authorization costs no statement of its
own either.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from plinth.api import Resource

from .services import Place, place_with_version, reservation_place, snapshot_rows

CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
# The POSTs to a level that write at its place.
WRITES = frozenset({"movements", "reservations"})


class StockContainer(Resource):
    """``/stock``: the catalog; ``/stock/{sku}`` is an item."""

    __view_permission__ = "stock.view"

    def __getitem__(self, sku: str) -> ItemResource:
        if not CODE.fullmatch(sku):
            raise KeyError(sku)
        return ItemResource(self, sku)

    def children(self, after: str | None = None, limit: int = 50) -> list[Resource]:
        from .services import list_items

        return [
            ItemResource(self, row["sku"])
            for row in list_items(self.request.db, limit, after)[:limit]
        ]


class ItemResource(Resource):
    """An item, which may not exist yet (``PUT`` creates it)."""

    __view_permission__ = "stock.view"
    # Rows of GET's snapshot, read with the security version before the
    # permission is checked (plinth.securitycache); shown only by the view.
    prefetched: Sequence[Any] | None = None

    @property
    def sku(self) -> str:
        return self.__name__

    def prefetch_with_version(self, request: Any) -> int | None:
        if request.method != "GET" or request.view_name:
            return None
        self.prefetched = snapshot_rows(request.db, self.sku, with_version=True)
        return self.prefetched[0].security_version if self.prefetched else None


class LocationsContainer(Resource):
    __view_permission__ = "stock.view"

    def __getitem__(self, code: str) -> LocationResource:
        if not CODE.fullmatch(code):
            raise KeyError(code)
        return LocationResource(self, code)

    def children(self, after: str | None = None, limit: int = 50) -> list[Resource]:
        from .services import list_locations

        return [
            LocationResource(self, location.code)
            for location in list_locations(self.request.db, limit, after)[:limit]
        ]


class LocationResource(Resource):
    """``/locations/{code}``; grants here apply to every level it holds."""

    __view_permission__ = "stock.view"

    @property
    def code(self) -> str:
        return self.__name__

    def __getitem__(self, sku: str) -> LevelResource:
        if not CODE.fullmatch(sku):
            raise KeyError(sku)
        return LevelResource(self, sku)

    def children(self, after: str | None = None, limit: int = 50) -> list[Resource]:
        """The levels held here (an unknown location has none)."""
        from .services import get_location, location_levels

        location = get_location(self.request.db, self.code)
        if location is None:
            return []
        return [
            LevelResource(self, row["sku"])
            for row in location_levels(self.request.db, location, limit, after)[:limit]
        ]


class LevelResource(Resource):
    """``/locations/{code}/{sku}``: one item at one location."""

    __view_permission__ = "stock.view"
    # Where a movement or a reservation goes, read with the security version
    # before the permission is checked (plinth.securitycache); None when not
    # read that way, or when the item or the location does not exist.
    prefetched: Place | None = None

    @property
    def sku(self) -> str:
        return self.__name__

    @property
    def code(self) -> str:
        return self.__parent__.__name__  # type: ignore[union-attr]

    def prefetch_with_version(self, request: Any) -> int | None:
        if request.method != "POST" or request.view_name not in WRITES:
            return None
        found = place_with_version(request.db, self.sku, self.code)
        if found is None:
            return None
        self.prefetched, version = found
        return version


class ReservationsContainer(Resource):
    __view_permission__ = "stock.view"

    def __getitem__(self, reservation_id: str) -> ReservationResource:
        if not re.fullmatch(r"[0-9a-f]{32}", reservation_id):
            raise KeyError(reservation_id)
        found = reservation_place(self.request.db, reservation_id)
        if found is None:
            # Still a resource, guarded by /reservations' own lineage: a caller
            # allowed only at some locations gets the 403 it gets for a
            # reservation elsewhere, so ids cannot be probed.
            return ReservationResource(self, reservation_id, None, None)
        reservation, where = found
        return ReservationResource(self, reservation_id, reservation, where)


class ReservationResource(Resource):
    """A reservation.  Its URL is under /reservations, but its ACL lineage
    runs through its stock level, so grants at a location apply to it.
    ``reservation`` is None for an id that does not exist."""

    def __init__(self, parent: Resource, name: str, reservation: Any, where: Any):
        super().__init__(parent, name)
        self.reservation = reservation
        self.where = where
        if where is None:
            return
        root = parent.__parent__
        locations = LocationsContainer(root, "locations")
        self.__acl_parent__ = LevelResource(
            LocationResource(locations, where.location.code), where.item.sku
        )
