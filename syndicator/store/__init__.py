"""The only SQL: articles, translations, sentence memory and source state behind one SQLAlchemy URL.

`Store` is the engine, connection and upgrade plumbing; each concern's queries live in their own module as
a mixin, and the schema in `schema.py`.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, inspect, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import SQLAlchemyError

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
            metadata.create_all(self.engine)
            self._add_new_columns()
            for index in CHANGE_INDEXES:
                index.create(self.engine, checkfirst=True)
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot open the store at {url}: {exc}", hint="check store.url") from exc

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
                cur.execute("PRAGMA journal_mode=WAL")
                cur.execute("PRAGMA busy_timeout=10000")
                cur.execute("PRAGMA synchronous=NORMAL")
                cur.close()

        return engine

    def _add_new_columns(self) -> None:
        """Add columns newer than an existing database (create_all only makes missing tables)."""
        inspector = inspect(self.engine)
        with self._tx() as conn:
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
        """One write transaction. On SQLite it takes the write lock up front (BEGIN IMMEDIATE): a deferred
        transaction that read first fails at once with "database is locked" when another thread committed
        meanwhile, whereas an immediate one waits out the busy timeout."""
        if self.engine.dialect.name != "sqlite":
            with self.engine.begin() as conn:
                yield conn
            return
        with self.engine.connect() as raw:
            conn = raw.execution_options(isolation_level="AUTOCOMMIT")
            conn.exec_driver_sql("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.exec_driver_sql("ROLLBACK")
                raise
            conn.exec_driver_sql("COMMIT")

    def integrity_check(self) -> str:
        """SQLite's own integrity check ("ok" when the file is sound); "ok" for other databases."""
        if self.engine.dialect.name != "sqlite":
            return "ok"
        with self.engine.connect() as conn:
            return "; ".join(str(r[0]) for r in conn.exec_driver_sql("PRAGMA integrity_check"))
