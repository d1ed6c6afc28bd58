"""plinth-stock: items, locations, a movement ledger and reservations."""

from __future__ import annotations

from typing import Any

requires: tuple[str, ...] = ()
# When reporting (admin) is enabled it is included first, and stock
# contributes its reports (its admin pages) through that plugin's directive.
optional: tuple[str, ...] = ("reporting", "admin")

PERMISSIONS = {
    "stock.view": "see items, locations, levels, movements and reservations",
    "stock.manage": "create and change items and locations",
    "stock.receive": "record receipts (and transfers in)",
    "stock.issue": "record issues (and transfers out, confirmed reservations)",
    "stock.adjust": "record adjustments",
    "stock.reserve": "reserve and release stock",
}


def includeme(config: Any) -> None:
    from plinth.api import SettingError, is_enabled, positive_int

    ttl = config.plinth_setting("stock.reservation_ttl", 900, positive_int)
    longest = config.plinth_setting("stock.max_reservation_ttl", 7 * 24 * 3600, positive_int)
    if ttl > longest:
        # The request body's schema caps ttl_seconds; the default must fit too.
        raise SettingError(
            f"setting 'stock.reservation_ttl' ({ttl}) is longer than "
            f"'stock.max_reservation_ttl' ({longest})"
        )
    for name, description in PERMISSIONS.items():
        config.declare_permission(name, description)
    config.declare_role(
        "stock.clerk",
        ["stock.view", "stock.receive", "stock.issue", "stock.reserve"],
        title="Receive, issue and reserve stock",
    )
    config.declare_role("stock.manager", list(PERMISSIONS), title="Every stock permission")
    config.add_tree_child("stock", "plinth_stock.resources.StockContainer")
    config.add_tree_child("locations", "plinth_stock.resources.LocationsContainer")
    config.add_tree_child("reservations", "plinth_stock.resources.ReservationsContainer")
    config.add_migrations("stock", "plinth_stock:migrations/versions")
    config.add_cli_command("plinth_stock.cli.stock")
    config.include(".views")
    if is_enabled(config.registry, "reporting"):
        config.include(".reports")
    if is_enabled(config.registry, "admin"):
        config.include(".admin")
