"""Views of /stock, /locations and /reservations: parse, call a service, answer."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from operator import itemgetter
from typing import Any

from pyramid.request import Request
from pyramid.response import Response

from plinth.api import (
    IF_MATCH,
    PAGING,
    QueryParameter,
    Visibility,
    api_error,
    check_if_match,
    cursor_after,
    location,
    page,
    page_limit,
    resource_location,
    visible,
    visible_children,
)
from plinth.api import (
    json_response as openapi_json,
)

from . import schemas, services
from .resources import (
    ItemResource,
    LevelResource,
    LocationResource,
    LocationsContainer,
    ReservationResource,
    StockContainer,
)

KIND_PERMISSION = {"receipt": "stock.receive", "issue": "stock.issue", "adjustment": "stock.adjust"}


def after_commit(request: Request) -> Callable[[Any], None]:
    """Notify an event once the request's transaction has committed."""
    registry = request.registry

    def notify(event: Any) -> None:
        request.tm.get().addAfterCommitHook(
            lambda committed: registry.notify(event) if committed else None
        )

    return notify


@contextmanager
def stock_errors() -> Iterator[None]:
    try:
        yield
    except services.StockError as exc:
        raise api_error(exc.status, exc.code, exc.message, exc.details) from None


def json_response(
    body: dict[str, Any], status: int = 200, etag: str | None = None, location: str | None = None
) -> Response:
    response = Response(status=status, json_body=body)
    if etag is not None:
        response.etag = etag
    if location is not None:
        response.location = location
    return response


# Items ------------------------------------------------------------------------


def locations_of(context: Any) -> LocationsContainer:
    """``/locations``, found from any stock resource without a query."""
    root = context
    while root.__parent__ is not None:
        root = root.__parent__
    return LocationsContainer(root, "locations")


def visible_locations(context: Any, request: Request) -> Visibility:
    """The locations whose levels the caller may see (``stock.view`` there)."""
    container = locations_of(context)
    return visible_children(
        request, container, "stock.view", lambda code: LocationResource(container, code)
    )


def list_items(context: StockContainer, request: Request) -> dict[str, Any]:
    limit = page_limit(request)
    after = cursor_after(request, str)
    query = request.query
    rows = services.list_items(
        request.db,
        limit,
        after,
        location=query["location"],
        below_reorder=query["below_reorder_point"],
        text=query["q"],
        visible=visible_locations(context, request),
    )
    return page(rows, limit, itemgetter("sku"))


def get_item(context: ItemResource, request: Request) -> Response:
    container = locations_of(context)

    def shown(codes: list[str]) -> set[str]:
        # Decided on the lineage ACLs cached at the security version that the
        # prefetched rows were read with: no statement more once warm.
        locations = [LocationResource(container, code) for code in codes]
        return {r.code for r in visible(request, "stock.view", locations)}

    snapshot = services.item_snapshot(
        request.db, context.sku, rows=context.prefetched, visible=shown
    )
    if snapshot is None:
        raise api_error(404, "not_found", f"no item {context.sku!r}")
    etag = snapshot.pop("etag")
    return json_response(snapshot, etag=etag)


def put_item(context: ItemResource, request: Request) -> Response:
    db = request.db
    current = services.get_item(db, context.sku, for_update=True)  # locked: see get_item
    check_if_match(request, services.item_etag(current.version) if current else None)
    with stock_errors():
        item, created = services.put_item(db, context.sku, request.validated)
    return json_response(
        services.item_dict(item),
        201 if created else 200,
        etag=services.item_etag(item.version),
        location=resource_location(request, context) if created else None,
    )


def transfer_permits(context: ItemResource, request: Request) -> list[tuple[str, Any]]:
    body = request.validated
    root: Any = context.__parent__.__parent__  # type: ignore[union-attr]
    locations = LocationsContainer(root, "locations")
    return [
        ("stock.issue", LevelResource(LocationResource(locations, body["from"]), context.sku)),
        ("stock.receive", LevelResource(LocationResource(locations, body["to"]), context.sku)),
    ]


def post_transfer(context: ItemResource, request: Request) -> Response:
    body = request.validated
    db = request.db
    with stock_errors():
        source = services.place(db, context.sku, body["from"])
        target = services.place(db, context.sku, body["to"])
        result = services.transfer(
            db,
            source,
            target,
            body["quantity"],
            body.get("reference"),
            request.authenticated_userid,
            after_commit(request),
        )
    return json_response(result, 201)


# Locations --------------------------------------------------------------------


def list_locations(context: LocationsContainer, request: Request) -> dict[str, Any]:
    limit = page_limit(request)
    after = cursor_after(request, str)
    rows = services.list_locations(
        request.db, limit, after, visible=visible_locations(context, request)
    )
    return page(rows, limit, lambda location: location.code, services.location_dict)


def _location(request: Request, context: LocationResource) -> Any:
    location = services.get_location(request.db, context.code)
    if location is None:
        raise api_error(404, "not_found", f"no location {context.code!r}")
    return location


def get_location(context: LocationResource, request: Request) -> Response:
    location = _location(request, context)
    limit = page_limit(request)
    levels = services.location_levels(request.db, location, limit, cursor_after(request, str))
    body = {**services.location_dict(location), "levels": page(levels, limit, itemgetter("sku"))}
    return json_response(body, etag=services.location_etag(location.version))


def put_location(context: LocationResource, request: Request) -> Response:
    db = request.db
    current = services.get_location(db, context.code, for_update=True)  # locked: see get_item
    check_if_match(request, services.location_etag(current.version) if current else None)
    location, created = services.put_location(db, context.code, request.validated["name"])
    return json_response(
        services.location_dict(location),
        201 if created else 200,
        etag=services.location_etag(location.version),
        location=resource_location(request, context) if created else None,
    )


# Levels -----------------------------------------------------------------------


def get_level(context: LevelResource, request: Request) -> dict[str, Any]:
    with stock_errors():
        where = services.place(request.db, context.sku, context.code)
    return services.level_snapshot(request.db, where)


def movement_permits(context: LevelResource, request: Request) -> list[tuple[str, Any]]:
    return [(KIND_PERMISSION[request.validated["kind"]], context)]


def post_movement(context: LevelResource, request: Request) -> Response:
    body = request.validated
    with stock_errors():
        where = context.prefetched or services.place(request.db, context.sku, context.code)
        result = services.record_movement(
            request.db,
            where,
            body["kind"],
            body["quantity"],
            request.authenticated_userid,
            body.get("reason"),
            body.get("reference"),
            after_commit(request),
        )
    return json_response(result, 201)


def list_movements(context: LevelResource, request: Request) -> dict[str, Any]:
    limit = page_limit(request)
    before = cursor_after(request, int)
    with stock_errors():
        where = services.place(request.db, context.sku, context.code)
    return page(services.list_movements(request.db, where, limit, before), limit, itemgetter("id"))


def post_reservation(context: LevelResource, request: Request) -> Response:
    body = request.validated
    # The body schema caps ttl_seconds at stock.max_reservation_ttl.
    ttl = body.get("ttl_seconds", request.registry.settings["stock.reservation_ttl"])
    with stock_errors():
        where = context.prefetched or services.place(request.db, context.sku, context.code)
        result = services.reserve(
            request.db,
            where,
            body["quantity"],
            body["reference"],
            ttl,
            request.authenticated_userid,
            after_commit(request),
        )
    return json_response(result, 201, location=location(request, f"/reservations/{result['id']}"))


# Reservations -----------------------------------------------------------------


def existing(context: ReservationResource) -> ReservationResource:
    if context.reservation is None:
        raise api_error(404, "not_found", f"no reservation {context.__name__!r}")
    return context


def get_reservation(context: ReservationResource, request: Request) -> dict[str, Any]:
    where = existing(context).where
    return services.reservation_dict(context.reservation, where.item.sku, where.location.code)


def confirm_reservation(context: ReservationResource, request: Request) -> dict[str, Any]:
    existing(context)
    with stock_errors():
        return services.confirm(
            request.db,
            context.reservation,
            context.where,
            request.authenticated_userid,
            after_commit(request),
        )


def release_reservation(context: ReservationResource, request: Request) -> dict[str, Any]:
    existing(context)
    with stock_errors():
        return services.release(
            request.db,
            context.reservation,
            context.where,
            request.authenticated_userid,
            after_commit(request),
        )


SKU = {"name": "sku", "in": "path", "required": True, "schema": schemas.CODE, "example": "A-1"}
CODE = {"name": "code", "in": "path", "required": True, "schema": schemas.CODE, "example": "WH1"}


def includeme(config: Any) -> None:
    add = config.add_endpoint
    tags = ["stock"]
    add(
        list_items,
        "/stock",
        "GET",
        context=StockContainer,
        name="",
        permission="stock.view",
        query=[
            *PAGING,
            QueryParameter("location", {"type": "string"}),
            QueryParameter("below_reorder_point", {"type": "boolean", "default": False}),
            QueryParameter("q", {"type": "string"}),
        ],
        summary="Items with their totals (stock.view)",
        tags=tags,
        responses={"200": openapi_json("a page of items")},
    )
    add(
        get_item,
        "/stock/{sku}",
        "GET",
        context=ItemResource,
        name="",
        renderer=None,
        permission="stock.view",
        parameters=[SKU],
        summary="An item with its stock per location (stock.view)",
        tags=tags,
        responses={"200": openapi_json("the item", schemas.ITEM)},
    )
    add(
        put_item,
        "/stock/{sku}",
        "PUT",
        context=ItemResource,
        name="",
        renderer=None,
        permission="stock.manage",
        parameters=[SKU, IF_MATCH],
        body_schema=schemas.ITEM_PUT,
        summary="Create or update an item (stock.manage)",
        tags=tags,
        responses={"200": openapi_json("updated"), "201": openapi_json("created")},
    )
    add(
        post_transfer,
        "/stock/{sku}/transfers",
        "POST",
        context=ItemResource,
        name="transfers",
        renderer=None,
        permits=transfer_permits,
        parameters=[SKU],
        body_schema=schemas.TRANSFER_POST,
        summary="Move stock between two locations (stock.issue at the source, "
        "stock.receive at the destination)",
        tags=tags,
        responses={"201": openapi_json("the pair of movements")},
    )
    add(
        list_locations,
        "/locations",
        "GET",
        context=LocationsContainer,
        name="",
        permission="stock.view",
        query=PAGING,
        summary="Locations (stock.view)",
        tags=tags,
        responses={"200": openapi_json("a page of locations")},
    )
    add(
        get_location,
        "/locations/{code}",
        "GET",
        context=LocationResource,
        name="",
        renderer=None,
        permission="stock.view",
        parameters=[CODE],
        query=PAGING,
        summary="A location with its levels (stock.view)",
        tags=tags,
        responses={"200": openapi_json("the location")},
    )
    add(
        put_location,
        "/locations/{code}",
        "PUT",
        context=LocationResource,
        name="",
        renderer=None,
        permission="stock.manage",
        parameters=[CODE, IF_MATCH],
        body_schema=schemas.LOCATION_PUT,
        summary="Create or rename a location (stock.manage)",
        tags=tags,
        responses={"200": openapi_json("updated"), "201": openapi_json("created")},
    )
    add(
        get_level,
        "/locations/{code}/{sku}",
        "GET",
        context=LevelResource,
        name="",
        permission="stock.view",
        parameters=[CODE, SKU],
        summary="One item at one location (stock.view)",
        tags=tags,
        responses={"200": openapi_json("the level")},
    )
    add(
        post_movement,
        "/locations/{code}/{sku}/movements",
        "POST",
        context=LevelResource,
        name="movements",
        renderer=None,
        permits=movement_permits,
        parameters=[CODE, SKU],
        body_schema=schemas.MOVEMENT_POST,
        summary="Record a receipt (stock.receive), issue (stock.issue) or adjustment "
        "(stock.adjust); 409 if it would make available < 0",
        tags=tags,
        responses={"201": openapi_json("the movement and the new level")},
    )
    add(
        list_movements,
        "/locations/{code}/{sku}/movements",
        "GET",
        context=LevelResource,
        name="movements",
        permission="stock.view",
        parameters=[CODE, SKU],
        query=PAGING,
        summary="The ledger of one item at one location, newest first (stock.view)",
        tags=tags,
        responses={"200": openapi_json("a page of movements")},
    )
    max_ttl = config.registry.settings["stock.max_reservation_ttl"]
    add(
        post_reservation,
        "/locations/{code}/{sku}/reservations",
        "POST",
        context=LevelResource,
        name="reservations",
        renderer=None,
        permission="stock.reserve",
        parameters=[CODE, SKU],
        body_schema=schemas.reservation_post(max_ttl),
        summary="Reserve stock (stock.reserve); 409 if not enough is available",
        tags=tags,
        responses={"201": openapi_json("the reservation", schemas.RESERVATION)},
    )
    add(
        get_reservation,
        "/reservations/{id}",
        "GET",
        context=ReservationResource,
        name="",
        permission="stock.view",
        summary="A reservation (stock.view at its location)",
        tags=tags,
        responses={"200": openapi_json("the reservation", schemas.RESERVATION)},
    )
    add(
        confirm_reservation,
        "/reservations/{id}/confirm",
        "POST",
        context=ReservationResource,
        name="confirm",
        permission="stock.issue",
        summary="Confirm: the reserved quantity is issued (stock.issue); 409 if not active",
        tags=tags,
        responses={"200": openapi_json("the confirmed reservation")},
    )
    add(
        release_reservation,
        "/reservations/{id}/release",
        "POST",
        context=ReservationResource,
        name="release",
        permission="stock.reserve",
        summary="Release the reserved quantity (stock.reserve); 409 if not active",
        tags=tags,
        responses={"200": openapi_json("the released reservation")},
    )
