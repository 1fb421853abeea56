"""The only SQL: articles, translations, sentence memory and source state behind one SQLAlchemy URL.

`Store` is the engine, connection and upgrade plumbing; each concern's queries live in their own module as
a mixin, and the schema in `schema.py`.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, inspect, text
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from syndicator import faults
from syndicator.errors import StoreError
from syndicator.store.articles import ArticlesMixin
from syndicator.store.corrections import CorrectionsMixin
from syndicator.store.publishing import PublishingMixin
from syndicator.store.pulls import PullsMixin
from syndicator.store.schema import CHANGE_INDEXES, metadata, sql_default, utcnow
from syndicator.store.service import ServiceMixin
from syndicator.store.sources import SourcesMixin
from syndicator.store.translation_memory import TranslationMemoryMixin
from syndicator.store.translations import TranslationsMixin

__all__ = ["Store", "metadata", "utcnow"]

log = logging.getLogger(__name__)


class Store(
    CorrectionsMixin,
    TranslationsMixin,
    ArticlesMixin,
    TranslationMemoryMixin,
    SourcesMixin,
    PublishingMixin,
    PullsMixin,
    ServiceMixin,
):
    """Durable state of one instance; every method is one transaction."""

    def __init__(self, url: str, *, clock: Any = utcnow) -> None:
        self.url = url
        self.clock = clock
        self._upsert_lock = threading.Lock()
        self.engine = self._connect(url)
        try:
            # One write transaction: two processes creating a fresh store take turns instead of both
            # finding a table missing and the second failing with "table ... already exists".
            with self._tx() as conn:
                metadata.create_all(conn)
                self._add_new_columns(conn)
                for index in CHANGE_INDEXES:
                    index.create(conn, checkfirst=True)
        except StoreError as exc:
            raise StoreError(
                f"cannot open the store at {url}: {exc.message}", hint="check store.url"
            ) from exc

    @staticmethod
    def _connect(url: str) -> Engine:
        parsed = make_url(url)
        if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url)
        if parsed.get_backend_name() == "sqlite":

            @event.listens_for(engine, "connect")
            def _pragmas(dbapi_conn: Any, _record: Any) -> None:
                # WAL lets the server read while a cycle writes; the busy timeout rides out short locks.
                cur = dbapi_conn.cursor()
                # The busy timeout first: switching a fresh file to WAL takes a lock another starting
                # process may hold for a moment.
                cur.execute("PRAGMA busy_timeout=10000")
                cur.execute("PRAGMA journal_mode=WAL")
                cur.execute("PRAGMA synchronous=NORMAL")
                cur.close()

        return engine

    def _add_new_columns(self, conn: Connection) -> None:
        """Add columns newer than an existing database (create_all only makes missing tables)."""
        inspector = inspect(conn)
        for table in metadata.sorted_tables:
            have = {c["name"] for c in inspector.get_columns(table.name)}
            added = False
            for column in table.columns:
                if column.name in have:
                    continue
                kind = column.type.compile(dialect=self.engine.dialect)
                default = "" if column.nullable else f" NOT NULL DEFAULT {sql_default(column)}"
                conn.execute(text(f'ALTER TABLE {table.name} ADD COLUMN "{column.name}" {kind}{default}'))
                log.info("store: added column %s.%s", table.name, column.name)
                added = True
            if added:
                for index in table.indexes:
                    index.create(bind=conn, checkfirst=True)

    def close(self) -> None:
        """Release connections."""
        self.engine.dispose()

    @contextlib.contextmanager
    def _tx(self) -> Iterator[Any]:
        """One write transaction: the only way anything is written to the store.

        On SQLite it takes the write lock up front (BEGIN IMMEDIATE): a deferred transaction that read first
        fails at once with "database is locked" when another thread committed meanwhile, whereas an
        immediate one waits out the busy timeout. A database error (a full disk, a lost connection) comes out
        as a StoreError naming the store; the transaction is rolled back whole. Its commit is a fault point
        (syndicator/faults.py), labelled with the method that asked for the transaction.
        """
        fault = faults.point(faults.COMMIT, _caller()) if faults.active() else faults.NOTHING
        try:
            if self.engine.dialect.name != "sqlite":
                with self.engine.begin() as conn:
                    yield conn
                    _commit_fault(fault)
                fault.kill_after()
                return
            with self.engine.connect() as raw:
                conn = raw.execution_options(isolation_level="AUTOCOMMIT")
                conn.exec_driver_sql("BEGIN IMMEDIATE")
                try:
                    yield conn
                    _commit_fault(fault)
                except BaseException:
                    conn.exec_driver_sql("ROLLBACK")
                    raise
                conn.exec_driver_sql("COMMIT")
            fault.kill_after()
        except SQLAlchemyError as exc:
            reason = getattr(exc, "orig", None) or exc
            raise StoreError(
                f"cannot write to the store {self.engine.url.render_as_string()}: {reason}",
                hint="check the disk holding the store (free space, permissions)",
            ) from exc

    def integrity_check(self) -> str:
        """SQLite's own integrity check ("ok" when the file is sound); "ok" for other databases."""
        if self.engine.dialect.name != "sqlite":
            return "ok"
        with self.engine.connect() as conn:
            return "; ".join(str(r[0]) for r in conn.exec_driver_sql("PRAGMA integrity_check"))


def _caller() -> str:
    """The store method that opened the transaction: the fault point's label (only computed in tests)."""
    frame = sys._getframe(1)
    while frame.f_back is not None and (
        frame.f_code.co_name == "_tx" or frame.f_code.co_filename == contextlib.__file__
    ):
        frame = frame.f_back
    return frame.f_code.co_qualname


def _commit_fault(fault: faults.Point) -> None:
    """Where a commit fails (as SQLite does on a full disk) or the process dies with it still open."""
    fault.fail(lambda: OperationalError("COMMIT", None, sqlite3.OperationalError("database or disk is full")))
    fault.kill_before()
