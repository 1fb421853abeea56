"""How Alembic runs the store's revisions: on the connection syndicator hands it (store/migrate.py), inside
that connection's write transaction, or, from the `alembic` command line, on `-x url=…`."""

from __future__ import annotations

from typing import Any

from alembic import context
from sqlalchemy import create_engine

from syndicator.store.base import write_transaction
from syndicator.store.schema import metadata


def run(connection: Any) -> None:
    """Run the revisions on a connection that is already in a transaction: the caller commits or rolls back,
    so an interrupted upgrade leaves the store as it was (SQLite and PostgreSQL both have transactional DDL)."""
    context.configure(
        connection=connection,
        target_metadata=metadata,
        # SQLite alters a table by copying it; batch mode does that where needed.
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def main() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        run(connection)
        return
    url = context.get_x_argument(as_dictionary=True).get("url") or context.config.get_main_option(
        "sqlalchemy.url"
    )
    if not url:
        raise SystemExit("give the store: alembic -c alembic.ini -x url=sqlite:///data/syndicator.db …")
    engine = create_engine(url)
    try:
        with write_transaction(engine) as conn:
            run(conn)
    finally:
        engine.dispose()


main()
