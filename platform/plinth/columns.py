"""Column types the core and the plugins share."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


class AwareDateTime(TypeDecorator[datetime]):
    """A moment stored in UTC and always read back as an aware ``datetime``.

    PostgreSQL keeps the offset (``timestamp with time zone``) but SQLite
    keeps none: it would hand back naive values and silently drop the offset
    of an aware one that is not UTC.  Values are converted to UTC on the way
    in (a naive value is taken as UTC already) and marked UTC on the way out,
    so that both databases give the same answer.  The column is
    ``DateTime(timezone=True)`` underneath: no migration is needed to use it.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None or value.tzinfo is None:
            return value
        return value.astimezone(UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def render_type(type_: str, obj: Any, autogen_context: Any) -> str | Literal[False]:
    """Alembic's ``render_item`` hook: a migration names the plain type underneath.

    Autogenerate would otherwise write ``plinth.columns.AwareDateTime()``
    into a revision without importing it; the stored type is the same.
    """
    if type_ == "type" and isinstance(obj, AwareDateTime):
        return "sa.DateTime(timezone=True)"
    return False
