"""Views of /stock, /locations and /reservations: parse, call a service, answer."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from operator import itemgetter
from typing import Any

from pyramid.request import Request
from pyramid.response import Response

from plinth.api import (
    Visibility,
    api_error,
    check_if_match,
    cursor_after,
    location,
    page,
    page_limit,
    query_error,
    resource_location,
    visible,
    visible_children,
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

KIND_PERMISSION = {"receipt": "stock.receive", "issue": "stock.issue",
                   "adjustment": "stock.adjust"}


def after_commit(request: Request) -> Callable[[Any], None]:
    """Notify an event once the request's transaction has committed."""
    registry = request.registry

    def notify(event: Any) -> None:
        request.tm.get().addAfterCommitHook(
            lambda committed: registry.notify(event) if committed else None)

    return notify


@contextmanager
def stock_errors() -> Iterator[None]:
    try:
        yield
    except services.StockError as exc:
        raise api_error(exc.status, exc.code, exc.message, exc.details) from None


def json_response(body: dict[str, Any], status: int = 200, etag: str | None = None,
                  location: str | None = None) -> Response:
    response = Response(status=status, json_body=body)
    if etag is not None:
        response.etag = etag
    if location is not None:
        response.location = location
    return response



def _flag(request: Request, name: str) -> bool:
    value = request.GET.get(name, "false").lower()
    if value not in ("true", "false"):
        raise query_error(name, "expected true or false", f"{name} must be true or false")
    return value == "true"


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
    return visible_children(request, container, "stock.view",
                            lambda code: LocationResource(container, code))


def list_items(context: StockContainer, request: Request) -> dict[str, Any]:
    limit = page_limit(request)
    after = cursor_after(request, str)
    below_reorder = _flag(request, "below_reorder_point")
    rows = services.list_items(request.db, limit, after,
                               location=request.GET.get("location") or None,
                               below_reorder=below_reorder,
                               text=request.GET.get("q") or None,
                               visible=visible_locations(context, request))
    return page(rows, limit, itemgetter("sku"))


def get_item(context: ItemResource, request: Request) -> Response:
    container = locations_of(context)

    def shown(codes: list[str]) -> set[str]:
        # Decided on the lineage ACLs cached at the security version that the
        # prefetched rows were read with: no statement more once warm.
        locations = [LocationResource(container, code) for code in codes]
        return {r.code for r in visible(request, "stock.view", locations)}

    snapshot = services.item_snapshot(request.db, context.sku, rows=context.prefetched,
                                      visible=shown)
    if snapshot is None:
        raise api_error(404, "not_found", f"no item {context.sku!r}")
    etag = snapshot.pop("etag")
    return json_response(snapshot, etag=etag)


def put_item(context: ItemResource, request: Request) -> Response:
    db = request.db
    current = services.get_item(db, context.sku, for_update=True)  # Fix: locked, see there
    check_if_match(request, services.item_etag(current.version) if current else None)
    with stock_errors():
        item, created = services.put_item(db, context.sku, request.validated)
    return json_response(services.item_dict(item), 201 if created else 200,
                         etag=services.item_etag(item.version),
                         location=resource_location(request, context) if created else None)


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
        result = services.transfer(db, source.item, source.location, target.location,
                                   body["quantity"], body.get("reference"),
                                   request.authenticated_userid, after_commit(request))
    return json_response(result, 201)


# Locations --------------------------------------------------------------------

def list_locations(context: LocationsContainer, request: Request) -> dict[str, Any]:
    limit = page_limit(request)
    after = cursor_after(request, str)
    rows = services.list_locations(request.db, limit, after,
                                   visible=visible_locations(context, request))
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
    current = services.get_location(db, context.code, for_update=True)  # Fix: locked
    check_if_match(request, services.location_etag(current.version) if current else None)
    location, created = services.put_location(db, context.code, request.validated["name"])
    return json_response(services.location_dict(location), 201 if created else 200,
                         etag=services.location_etag(location.version),
                         location=resource_location(request, context) if created else None)


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
        where = services.place(request.db, context.sku, context.code)
        result = services.record_movement(
            request.db, where, body["kind"], body["quantity"], request.authenticated_userid,
            body.get("reason"), body.get("reference"), after_commit(request))
    return json_response(result, 201)


def list_movements(context: LevelResource, request: Request) -> dict[str, Any]:
    limit = page_limit(request)
    before = cursor_after(request, int)
    with stock_errors():
        where = services.place(request.db, context.sku, context.code)
    return page(services.list_movements(request.db, where, limit, before), limit,
                itemgetter("id"))


def post_reservation(context: LevelResource, request: Request) -> Response:
    body = request.validated
    # The body schema caps ttl_seconds at stock.max_reservation_ttl.
    ttl = body.get("ttl_seconds", request.registry.settings["stock.reservation_ttl"])
    with stock_errors():
        where = services.place(request.db, context.sku, context.code)
        result = services.reserve(request.db, where, body["quantity"], body["reference"], ttl,
                                  request.authenticated_userid, after_commit(request))
    return json_response(result, 201,
                         location=location(request, f"/reservations/{result['id']}"))


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
        return services.confirm(request.db, context.reservation, context.where,
                                request.authenticated_userid, after_commit(request))


def release_reservation(context: ReservationResource, request: Request) -> dict[str, Any]:
    existing(context)
    with stock_errors():
        return services.release(request.db, context.reservation, context.where,
                                request.authenticated_userid, after_commit(request))


def includeme(config: Any) -> None:
    add = config.add_view
    add(list_items, context=StockContainer, name="", request_method="GET",
        permission="stock.view", renderer="json")
    add(get_item, context=ItemResource, name="", request_method="GET",
        permission="stock.view")
    add(put_item, context=ItemResource, name="", request_method="PUT",
        permission="stock.manage", body_schema=schemas.ITEM_PUT)
    add(post_transfer, context=ItemResource, name="transfers", request_method="POST",
        permits=transfer_permits,
        body_schema=schemas.TRANSFER_POST)
    add(list_locations, context=LocationsContainer, name="", request_method="GET",
        permission="stock.view", renderer="json")
    add(get_location, context=LocationResource, name="", request_method="GET",
        permission="stock.view")
    add(put_location, context=LocationResource, name="", request_method="PUT",
        permission="stock.manage", body_schema=schemas.LOCATION_PUT)
    add(get_level, context=LevelResource, name="", request_method="GET",
        permission="stock.view", renderer="json")
    add(post_movement, context=LevelResource, name="movements", request_method="POST",
        permits=movement_permits,
        body_schema=schemas.MOVEMENT_POST)
    add(list_movements, context=LevelResource, name="movements", request_method="GET",
        permission="stock.view", renderer="json")
    max_ttl = config.registry.settings["stock.max_reservation_ttl"]
    add(post_reservation, context=LevelResource, name="reservations", request_method="POST",
        permission="stock.reserve", body_schema=schemas.reservation_post(max_ttl))
    add(get_reservation, context=ReservationResource, name="", request_method="GET",
        permission="stock.view", renderer="json")
    add(confirm_reservation, context=ReservationResource, name="confirm",
        request_method="POST", permission="stock.issue", renderer="json")
    add(release_reservation, context=ReservationResource, name="release",
        request_method="POST", permission="stock.reserve", renderer="json")
