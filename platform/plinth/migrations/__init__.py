"""The one Alembic environment; the core and each plugin own a branch."""
