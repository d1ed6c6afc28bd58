"""JSON Schemas of the stock API (validated, and published in OpenAPI)."""

MAX_QUANTITY = 2**31 - 1

CODE = {
    "type": "string",
    "minLength": 1,
    "maxLength": 64,
    "pattern": "^[A-Za-z0-9][A-Za-z0-9._-]*$",
}
POSITIVE = {"type": "integer", "minimum": 1, "maximum": MAX_QUANTITY}
REFERENCE = {"type": "string", "minLength": 1, "maxLength": 200}

ITEM_PUT = {
    "type": "object",
    "additionalProperties": False,
    "required": ["name"],
    "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 200},
        "unit": {"type": "string", "minLength": 1, "maxLength": 20},
        "reorder_point": {"type": "integer", "minimum": 0, "maximum": MAX_QUANTITY},
        "unit_cost": {
            "anyOf": [{"type": "number"}, {"type": "string", "maxLength": 40}],
            "description": "a non-negative decimal with at most 4 decimals; "
            'send a string ("12.50") to keep it exact',
        },
        "active": {"type": "boolean"},
    },
}

LOCATION_PUT = {
    "type": "object",
    "additionalProperties": False,
    "required": ["name"],
    "properties": {"name": {"type": "string", "minLength": 1, "maxLength": 200}},
}

MOVEMENT_POST = {
    # One shape per kind, in the JSON Schema subset OpenAPI 3.0 understands.
    "oneOf": [
        {
            "title": "receipt or issue",
            "type": "object",
            "additionalProperties": False,
            "required": ["kind", "quantity"],
            "properties": {
                "kind": {"type": "string", "enum": ["receipt", "issue"]},
                "quantity": POSITIVE,
                "reason": {"type": "string", "minLength": 1, "maxLength": 500},
                "reference": REFERENCE,
            },
        },
        {
            "title": "adjustment",
            "type": "object",
            "additionalProperties": False,
            "required": ["kind", "quantity", "reason"],
            "properties": {
                "kind": {"type": "string", "enum": ["adjustment"]},
                "quantity": {
                    "type": "integer",
                    "minimum": -MAX_QUANTITY,
                    "maximum": MAX_QUANTITY,
                    "not": {"enum": [0]},
                    "description": "the signed change to on hand, not 0",
                },
                "reason": {"type": "string", "minLength": 1, "maxLength": 500},
                "reference": REFERENCE,
            },
        },
    ],
}

RESERVATION_POST = {
    "type": "object",
    "additionalProperties": False,
    "required": ["quantity", "reference"],
    "properties": {
        "quantity": POSITIVE,
        "reference": REFERENCE,
        "ttl_seconds": {"type": "integer", "minimum": 1, "maximum": MAX_QUANTITY},
    },
}

_RESERVATION_POSTS: dict[int, dict[str, object]] = {}


def reservation_post(max_ttl: int) -> dict[str, object]:
    """RESERVATION_POST with ``ttl_seconds`` capped at ``stock.max_reservation_ttl``.

    One object per cap, so that the view validates against the very schema
    the document publishes.
    """
    if max_ttl not in _RESERVATION_POSTS:
        ttl = {
            "type": "integer",
            "minimum": 1,
            "maximum": min(max_ttl, MAX_QUANTITY),
            "description": "seconds until the reservation expires (at most "
            "stock.max_reservation_ttl)",
        }
        properties = {**RESERVATION_POST["properties"], "ttl_seconds": ttl}  # type: ignore[dict-item]
        _RESERVATION_POSTS[max_ttl] = {**RESERVATION_POST, "properties": properties}
    return _RESERVATION_POSTS[max_ttl]


TRANSFER_POST = {
    "type": "object",
    "additionalProperties": False,
    "required": ["from", "to", "quantity"],
    "properties": {
        "from": CODE,
        "to": CODE,
        "quantity": POSITIVE,
        "reference": REFERENCE,
    },
}

LEVEL = {
    "type": "object",
    "required": ["location", "on_hand", "reserved", "available"],
    "properties": {
        "location": {"type": "string"},
        "on_hand": {"type": "integer"},
        "reserved": {"type": "integer"},
        "available": {"type": "integer"},
    },
}

ITEM = {
    "type": "object",
    "required": ["sku", "stock", "on_hand", "reserved", "locations"],
    "properties": {
        "sku": {"type": "string"},
        "name": {"type": "string"},
        "unit": {"type": "string"},
        "reorder_point": {"type": "integer"},
        "unit_cost": {"type": "string"},
        "active": {"type": "boolean"},
        "stock": {"type": "integer"},
        "on_hand": {"type": "integer"},
        "reserved": {"type": "integer"},
        "locations": {"type": "array", "items": LEVEL},
    },
}

RESERVATION = {
    "type": "object",
    "required": ["id", "sku", "location", "quantity", "reference", "status", "expires_at"],
    "properties": {
        "id": {"type": "string"},
        "sku": {"type": "string"},
        "location": {"type": "string"},
        "quantity": {"type": "integer"},
        "reference": {"type": "string"},
        "status": {"type": "string", "enum": ["active", "confirmed", "released", "expired"]},
        "expires_at": {"type": "string"},
    },
}
