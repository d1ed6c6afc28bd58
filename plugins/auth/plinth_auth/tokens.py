"""API token secrets: 256 random bits behind a prefix secret scanners can spot."""

from __future__ import annotations

import hashlib
import secrets
import uuid

PREFIX = "plinth_"


def new_token() -> tuple[str, str, str]:
    """Return (public id, secret token, hash of the token to store)."""
    token = PREFIX + secrets.token_urlsafe(32)
    return uuid.uuid4().hex, token, hash_token(token)


def hash_token(token: str) -> str:
    # The secret has 256 bits of entropy, so a fast hash cannot be brute-forced;
    # a slow one would only slow down every request.
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def looks_like_token(value: str) -> bool:
    return value.startswith(PREFIX) and 20 < len(value) < 200
