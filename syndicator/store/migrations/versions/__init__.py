"""One module per schema revision, oldest first (Alembic loads them by path; this file only makes them ship)."""
