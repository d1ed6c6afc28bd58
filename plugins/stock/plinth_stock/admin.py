"""Stock's pages in the admin console (included only when admin is enabled).

Item pages show the item with its levels; location pages show the levels
held there and a movement form that records through the same service,
schema and permissions as ``POST /locations/{code}/{sku}/movements``.
"""

from __future__ import annotations

from importlib.resources import files
from typing import Any

from pyramid.request import Request
from pyramid.traversal import find_resource, find_root

from plinth.api import api_error, validate

from . import schemas, services
from .resources import ItemResource, LevelResource, LocationResource
from .views import KIND_PERMISSION, after_commit, stock_errors

TEMPLATES = files("plinth_stock").joinpath("templates", "admin")
LEVELS_SHOWN = 200


def item_panel(context: ItemResource, request: Request) -> dict[str, Any]:
    item = services.item_snapshot(request.db, context.sku)
    if item is not None:
        locations = find_resource(find_root(context), "/locations")
        item["locations"] = [
            level
            for level in item["locations"]
            if request.has_permission(
                "stock.view", LevelResource(locations[level["location"]], context.sku)
            )
        ]
    return {"item": item}


def location_panel(context: LocationResource, request: Request) -> dict[str, Any]:
    location = services.get_location(request.db, context.code)
    levels = (
        services.location_levels(request.db, location, LEVELS_SHOWN, None)[:LEVELS_SHOWN]
        if location is not None
        else []
    )
    return {"location": location, "levels": levels, "kinds": list(KIND_PERMISSION)}


def movement_body(request: Request) -> dict[str, Any]:
    """The form as the API's JSON body, checked against the API's schema."""
    post = request.POST
    body: dict[str, Any] = {"kind": post.get("kind", "")}
    try:
        body["quantity"] = int(post.get("quantity", ""))
    except ValueError:
        raise api_error(400, "invalid_request", "The quantity must be a whole number.") from None
    for name in ("reason", "reference"):
        if post.get(name, "").strip():
            body[name] = post[name].strip()
    return validate(schemas.MOVEMENT_POST, body)  # type: ignore[no-any-return]


def _level(context: LocationResource, request: Request) -> LevelResource:
    sku = request.POST.get("sku", "").strip()
    try:
        return context[sku]
    except KeyError:
        raise api_error(400, "invalid_request", "That is not a SKU.") from None


def movement_permits(context: LocationResource, request: Request) -> list[tuple[str, Any]]:
    kind = request.POST.get("kind", "")
    if kind not in KIND_PERMISSION:
        raise api_error(400, "invalid_request", "The kind is receipt, issue or adjustment.")
    return [(KIND_PERMISSION[kind], _level(context, request))]


def record_movement(context: LocationResource, request: Request) -> None:
    level = _level(context, request)
    body = movement_body(request)
    with stock_errors():
        where = services.place(request.db, level.sku, context.code)
        services.record_movement(
            request.db,
            where,
            body["kind"],
            body["quantity"],
            request.authenticated_userid,
            body.get("reason"),
            body.get("reference"),
            after_commit(request),
        )


def includeme(config: Any) -> None:
    config.add_admin_panel(
        "stock.item",
        ItemResource,
        item_panel,
        str(TEMPLATES.joinpath("item.jinja2")),
        "Item",
        permission="stock.view",
        order=10,
    )
    config.add_admin_panel(
        "stock.location",
        LocationResource,
        location_panel,
        str(TEMPLATES.joinpath("location.jinja2")),
        "Stock levels",
        permission="stock.view",
        order=10,
        post=record_movement,
        post_permits=movement_permits,
    )
