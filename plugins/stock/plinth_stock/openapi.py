"""The stock plugin's paths in /openapi.json."""

from __future__ import annotations

from typing import Any

from plinth.api import json_body, json_response

from . import schemas

SKU = {"name": "sku", "in": "path", "required": True, "schema": schemas.CODE,
       "example": "A-1"}
CODE = {"name": "code", "in": "path", "required": True, "schema": schemas.CODE,
        "example": "WH1"}
RID = {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
PAGE = [{"name": "limit", "in": "query", "required": False, "allowEmptyValue": True,
         "schema": {"type": "integer", "minimum": 1, "maximum": 500}},
        {"name": "cursor", "in": "query", "required": False, "schema": {"type": "string"}}]
IF_MATCH = {"name": "If-Match", "in": "header", "required": False,
            "schema": {"type": "string"}}
IDEMPOTENCY = {"name": "Idempotency-Key", "in": "header", "required": False,
               # What the server takes: 1 to 200 printable characters.
               "schema": {"type": "string", "minLength": 1, "maxLength": 200,
                          "pattern": "^[\\x21-\\x7e]([\\x20-\\x7e]*[\\x21-\\x7e])?$"},
               "description": "replaying a key returns the first response, with no "
                              "second effect"}


def includeme(config: Any) -> None:
    add = config.add_openapi_path
    tags = ["stock"]
    add("/stock", "get", {
        "summary": "Items with their totals (stock.view)", "tags": tags,
        "parameters": [*PAGE,
                       {"name": "location", "in": "query", "required": False,
                        "schema": {"type": "string"}},
                       {"name": "below_reorder_point", "in": "query", "required": False,
                        "schema": {"type": "string", "enum": ["true", "false"]}},
                       {"name": "q", "in": "query", "required": False,
                        "schema": {"type": "string"}}],
        "responses": {"200": json_response("a page of items")}})
    add("/stock/{sku}", "get", {
        "summary": "An item with its stock per location (stock.view)", "tags": tags,
        "parameters": [SKU], "responses": {"200": json_response("the item", schemas.ITEM)}})
    add("/stock/{sku}", "put", {
        "summary": "Create or update an item (stock.manage)", "tags": tags,
        "parameters": [SKU, IF_MATCH], "requestBody": json_body(schemas.ITEM_PUT),
        "responses": {"200": json_response("updated"), "201": json_response("created")}})
    add("/stock/{sku}/transfers", "post", {
        "summary": "Move stock between two locations (stock.issue at the source, "
                   "stock.receive at the destination)", "tags": tags,
        "parameters": [SKU, IDEMPOTENCY], "requestBody": json_body(schemas.TRANSFER_POST),
        "responses": {"201": json_response("the pair of movements")}})
    add("/locations", "get", {
        "summary": "Locations (stock.view)", "tags": tags, "parameters": PAGE,
        "responses": {"200": json_response("a page of locations")}})
    add("/locations/{code}", "get", {
        "summary": "A location with its levels (stock.view)", "tags": tags,
        "parameters": [CODE, *PAGE], "responses": {"200": json_response("the location")}})
    add("/locations/{code}", "put", {
        "summary": "Create or rename a location (stock.manage)", "tags": tags,
        "parameters": [CODE, IF_MATCH], "requestBody": json_body(schemas.LOCATION_PUT),
        "responses": {"200": json_response("updated"), "201": json_response("created")}})
    add("/locations/{code}/{sku}", "get", {
        "summary": "One item at one location (stock.view)", "tags": tags,
        "parameters": [CODE, SKU], "responses": {"200": json_response("the level")}})
    add("/locations/{code}/{sku}/movements", "get", {
        "summary": "The ledger of one item at one location, newest first (stock.view)",
        "tags": tags, "parameters": [CODE, SKU, *PAGE],
        "responses": {"200": json_response("a page of movements")}})
    add("/locations/{code}/{sku}/movements", "post", {
        "summary": "Record a receipt (stock.receive), issue (stock.issue) or adjustment "
                   "(stock.adjust); 409 if it would make available < 0", "tags": tags,
        "parameters": [CODE, SKU, IDEMPOTENCY], "requestBody": json_body(schemas.MOVEMENT_POST),
        "responses": {"201": json_response("the movement and the new level")}})
    add("/locations/{code}/{sku}/reservations", "post", {
        "summary": "Reserve stock (stock.reserve); 409 if not enough is available",
        "tags": tags, "parameters": [CODE, SKU, IDEMPOTENCY],
        "requestBody": json_body(schemas.reservation_post(
            config.registry.settings["stock.max_reservation_ttl"])),
        "responses": {"201": json_response("the reservation", schemas.RESERVATION)}})
    add("/reservations/{id}", "get", {
        "summary": "A reservation (stock.view at its location)", "tags": tags,
        "parameters": [RID],
        "responses": {"200": json_response("the reservation", schemas.RESERVATION)}})
    add("/reservations/{id}/confirm", "post", {
        "summary": "Confirm: the reserved quantity is issued (stock.issue); 409 if not "
                   "active", "tags": tags, "parameters": [RID, IDEMPOTENCY],
        "responses": {"200": json_response("the confirmed reservation")}})
    add("/reservations/{id}/release", "post", {
        "summary": "Release the reserved quantity (stock.reserve); 409 if not active",
        "tags": tags, "parameters": [RID, IDEMPOTENCY],
        "responses": {"200": json_response("the released reservation")}})
