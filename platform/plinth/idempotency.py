"""``Idempotency-Key`` for every POST of an authenticated caller.

The first response to a key is stored in the same transaction as its effect,
so a replay returns that response without a second effect, and a request that
failed (and so rolled back) leaves nothing behind.  Keys are scoped to the
caller; the same key with another request is 422.  Two concurrent requests
with one key: the second waits on the unique index, fails, and is retried by
pyramid_retry, when it finds the stored response.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Any

from pyramid.request import Request
from pyramid.response import Response
from pyramid_retry import RetryableException
from sqlalchemy import Integer, LargeBinary, String, UniqueConstraint, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from . import clock
from .columns import AwareDateTime
from .db import Base
from .errors import api_error

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 200

PARAMETER = {
    "name": HEADER,
    "in": "header",
    "required": False,
    # What the server takes: 1 to 200 printable characters.
    "schema": {
        "type": "string",
        "minLength": 1,
        "maxLength": MAX_KEY_LENGTH,
        "pattern": "^[\\x21-\\x7e]([\\x20-\\x7e]*[\\x21-\\x7e])?$",
    },
    "description": "replaying a key returns the first response, with no second effect",
}
"""``Idempotency-Key`` as an OpenAPI parameter: every POST that needs
credentials takes it, so every such endpoint documents it."""


class IdempotencyRecord(Base):
    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("principal", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    principal: Mapped[str] = mapped_column(String(200), nullable=False)
    key: Mapped[str] = mapped_column(String(MAX_KEY_LENGTH), nullable=False)
    fingerprint: Mapped[str] = mapped_column(String(64), nullable=False)
    status: Mapped[int | None] = mapped_column(Integer)
    body: Mapped[bytes | None] = mapped_column(LargeBinary)
    location: Mapped[str | None] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(AwareDateTime(), nullable=False, index=True)


class IdempotencyRace(RetryableException):
    """Another request with the same key committed first: retry to replay it."""


def purge(db: Any, ttl_seconds: int) -> int:
    """Delete the keys older than ``ttl_seconds`` (they would be ignored anyway)."""
    cutoff = clock.now() - timedelta(seconds=ttl_seconds)
    result = db.execute(delete(IdempotencyRecord).where(IdempotencyRecord.created_at < cutoff))
    return int(result.rowcount or 0)


def fingerprint(request: Request) -> str:
    digest = hashlib.sha256()
    for part in (request.method.encode(), request.path_qs.encode(), request.body or b""):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def idempotency_deriver(view: Any, info: Any) -> Any:
    if info.options.get("idempotent") is False or info.exception_only:
        return view

    def idempotent_view(context: Any, request: Request) -> Any:
        key = request.headers.get(HEADER)
        if request.method != "POST" or key is None or request.authenticated_userid is None:
            return view(context, request)
        key = key.strip()
        if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
            raise api_error(
                400,
                "invalid_idempotency_key",
                f"{HEADER} must be 1 to {MAX_KEY_LENGTH} printable characters",
            )
        db = request.db
        principal = request.authenticated_userid
        ttl = timedelta(seconds=request.registry.settings["plinth.idempotency_ttl"])
        now = clock.now()
        print_ = fingerprint(request)
        record = db.scalars(
            select(IdempotencyRecord).where(
                IdempotencyRecord.principal == principal, IdempotencyRecord.key == key
            )
        ).first()
        if record is not None and record.created_at < now - ttl:
            db.execute(delete(IdempotencyRecord).where(IdempotencyRecord.id == record.id))
            record = None
        if record is not None:
            if record.fingerprint != print_:
                raise api_error(
                    422,
                    "idempotency_key_reused",
                    f"this {HEADER} was used for another request",
                    {"idempotency_key": key},
                )
            response = Response(
                status=record.status or 200,
                body=record.body or b"",
                content_type="application/json",
                charset="utf-8",
            )
            if record.location:
                response.location = record.location
            response.headers["Idempotent-Replayed"] = "true"
            return response
        record = IdempotencyRecord(principal=principal, key=key, fingerprint=print_, created_at=now)
        db.add(record)
        try:
            db.flush()
        except IntegrityError:
            raise IdempotencyRace() from None
        response = view(context, request)
        record.status = response.status_int
        record.body = response.body
        record.location = response.location
        return response

    return idempotent_view


idempotency_deriver.options = ("idempotent",)  # type: ignore[attr-defined]
