"""Alembic environment: run by :mod:`plinth.schema` with a ready connection."""

from typing import Any

from alembic import context

from plinth.columns import render_type
from plinth.db import Base

config = context.config
connection = config.attributes["connection"]


def include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    """Autogenerate looks only at the enabled plugins' tables.

    The database may hold tables of plugins that are disabled now; their
    models are not loaded, and they must not be proposed for dropping.
    """
    return not (type_ == "table" and reflected and compare_to is None)


context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
    include_object=include_object,
    render_item=render_type,
)
with context.begin_transaction():
    context.run_migrations()
