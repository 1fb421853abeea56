"""What every part of the store relies on: the engine, the clock, one-transaction writes and upserts."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any, Protocol

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine


class StoreBase(Protocol):
    """The plumbing `Store` provides to its parts (the mixins in this package)."""

    engine: Engine
    clock: Any

    def _tx(self) -> contextlib.AbstractContextManager[Any]:
        """One write transaction."""
        ...

    def _insert(self, table: Table) -> Any:
        """An INSERT that can say ON CONFLICT: both SQLite and PostgreSQL have it, with the same meaning, so
        concurrent writers of one key are settled by the database (one row wins, the others update or skip)
        instead of a read followed by a write that another writer can slip between."""
        if self.engine.dialect.name == "postgresql":
            return postgresql.insert(table)
        return sqlite.insert(table)


@contextlib.contextmanager
def write_transaction(engine: Engine) -> Iterator[Any]:
    """One write transaction on a connection of its own. On SQLite it takes the write lock up front (BEGIN
    IMMEDIATE): a deferred transaction that read first fails at once with "database is locked" when another
    writer committed meanwhile, whereas an immediate one waits out the busy timeout. DDL inside it (migrations)
    is part of the transaction too, which the sqlite3 module's own transaction handling would not do."""
    if engine.dialect.name != "sqlite":
        with engine.begin() as conn:
            yield conn
        return
    with engine.connect() as raw:
        conn = raw.execution_options(isolation_level="AUTOCOMMIT")
        conn.exec_driver_sql("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.exec_driver_sql("ROLLBACK")
            raise
        conn.exec_driver_sql("COMMIT")
