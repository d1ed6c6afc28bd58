"""Auth events into the core's audit log."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from sqlalchemy.orm import Session

from plinth.api import IWriteEngine, audit, get_service

from . import events


def audit_auth_event(event: events.AuthEvent) -> None:
    data = {
        f.name: getattr(event, f.name)
        for f in fields(event)
        if f.name not in ("db", "actor", "request_id")
    }
    before = data.pop("before", None)
    after = data.pop("after", None)
    resource = f"/auth/users/{data['user']}" if data.get("user") else None
    if isinstance(event, events.TokenIssued | events.TokenRevoked):
        after = {"token_id": data["token_id"], "user": data["user"]}
    audit.record(event.db, event.kind, event.actor, resource, before, after, event.request_id)


def audit_failed_login(event: events.LoginFailed, registry: Any) -> None:
    # The failed request rolls back, so this is written on its own.
    with Session(bind=get_service(registry, IWriteEngine)) as db, db.begin():
        audit.record(
            db,
            event.kind,
            None,
            f"/auth/users/{event.username}",
            None,
            {"username": event.username, "client": event.client, "reason": event.reason},
            event.request_id,
        )


def includeme(config: Any) -> None:
    registry = config.registry
    for kind in (
        events.UserCreated,
        events.UserChanged,
        events.UserDeleted,
        events.MembershipChanged,
        events.TokenIssued,
        events.TokenRevoked,
    ):
        config.add_subscriber(audit_auth_event, kind)
    config.add_subscriber(lambda event: audit_failed_login(event, registry), events.LoginFailed)
