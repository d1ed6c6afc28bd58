"""The audit log: written in the same transaction as the change it records.

Entries are only ever inserted; no API updates or deletes them.  Plugins
record through :func:`record` (the auth plugin's events land here through
subscribers it registers).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Integer, String
from sqlalchemy.orm import Mapped, Session, mapped_column

from . import clock
from .columns import AwareDateTime
from .db import Base


class AuditEntry(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(AwareDateTime(), nullable=False, index=True)
    actor: Mapped[str | None] = mapped_column(String(200), index=True)
    kind: Mapped[str] = mapped_column(String(60), nullable=False, index=True)
    resource: Mapped[str | None] = mapped_column(String(512), index=True)
    before: Mapped[Any | None] = mapped_column(JSON)
    after: Mapped[Any | None] = mapped_column(JSON)
    request_id: Mapped[str | None] = mapped_column(String(128))

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "at": self.at.isoformat(),
            "actor": self.actor,
            "kind": self.kind,
            "resource": self.resource,
            "before": self.before,
            "after": self.after,
            "request_id": self.request_id,
        }


def record(
    db: Session,
    kind: str,
    actor: str | None,
    resource: str | None = None,
    before: Any = None,
    after: Any = None,
    request_id: str | None = None,
) -> AuditEntry:
    entry = AuditEntry(
        at=clock.now(),
        kind=kind,
        actor=actor,
        resource=resource,
        before=before,
        after=after,
        request_id=request_id,
    )
    db.add(entry)
    return entry
