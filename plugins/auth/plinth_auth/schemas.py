"""JSON Schemas of request bodies (validated, and published in OpenAPI)."""

NAME = {"type": "string", "minLength": 1, "maxLength": 150, "pattern": "^[A-Za-z0-9._@+-]+$"}

TOKEN_REQUEST = {
    "type": "object",
    "additionalProperties": False,
    "required": ["username", "password"],
    "properties": {
        "username": {"type": "string", "minLength": 1, "maxLength": 150},
        "password": {"type": "string", "minLength": 1, "maxLength": 4096},
    },
}

TOKEN_ISSUED = {
    "type": "object",
    "required": ["token", "id", "expires_at"],
    "properties": {
        "token": {"type": "string"},
        "id": {"type": "string"},
        "expires_at": {"type": "string", "format": "date-time"},
    },
}

USER_PUT = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "password": {"type": "string", "minLength": 1, "maxLength": 4096},
        "groups": {"type": "array", "maxItems": 100, "items": NAME},
        "active": {"type": "boolean"},
    },
}

USER = {
    "type": "object",
    "required": ["name", "active", "groups"],
    "properties": {
        "name": {"type": "string"},
        "active": {"type": "boolean"},
        "groups": {"type": "array", "items": {"type": "string"}},
        "created_at": {"type": "string"},
        "updated_at": {"type": "string"},
    },
}

WHOAMI = {
    "type": "object",
    "required": ["user", "principals"],
    "properties": {
        "user": {"type": "string"},
        "principals": {"type": "array", "items": {"type": "string"}},
    },
}
