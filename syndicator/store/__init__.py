"""The only SQL: articles, translations, sentence memory and source state behind one SQLAlchemy URL.

`Store` is the engine and connection plumbing; each concern's queries live in their own module as a mixin, the
schema in `schema.py`, and its revisions (Alembic) in `migrations/`, run by `migrate.py`. SQLite and PostgreSQL
run the same statements: concurrent writers are settled by unique indexes and INSERT … ON CONFLICT, counters are
added in SQL, and pending work is claimed (claims.py), so no process-local lock is needed for correctness.
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import SQLAlchemyError

from syndicator.errors import StoreError
from syndicator.store.articles import ArticlesMixin
from syndicator.store.base import write_transaction
from syndicator.store.claims import ClaimsMixin
from syndicator.store.corrections import CorrectionsMixin
from syndicator.store.locks import HeldLock, LocksMixin
from syndicator.store.media import MediaMixin
from syndicator.store.migrate import check
from syndicator.store.publishing import PublishingMixin
from syndicator.store.pulls import PullsMixin
from syndicator.store.schema import metadata, utcnow
from syndicator.store.service import ServiceMixin
from syndicator.store.sources import SourcesMixin
from syndicator.store.translation_memory import TranslationMemoryMixin
from syndicator.store.translations import TranslationsMixin

__all__ = ["HeldLock", "Store", "connect", "database_url", "metadata", "utcnow"]

BACKENDS = ("sqlite", "postgresql")


def database_url(url: str) -> URL:
    """The SQLAlchemy URL of a store, with PostgreSQL's driver made psycopg 3 (the one we install) when the
    URL names none; StoreError for a database we do not run on."""
    try:
        parsed = make_url(url)
    except Exception as exc:  # sqlalchemy.exc.ArgumentError, and ValueError for a bad port
        raise StoreError(f"{url!r} is not a database URL", hint="e.g. sqlite:///data/syndicator.db") from exc
    backend = parsed.get_backend_name()
    if backend not in BACKENDS:
        raise StoreError(
            f"the store cannot run on {backend}: SQLite and PostgreSQL are supported",
            hint="e.g. sqlite:///data/syndicator.db or postgresql+psycopg://user@host/syndicator",
        )
    if backend == "postgresql" and parsed.get_driver_name() != "psycopg":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def connect(url: str) -> Engine:
    """An engine for a store's URL, set up for its database; opening it checks nothing (see Store)."""
    parsed = database_url(url)
    if parsed.get_backend_name() == "postgresql":
        # A database server restarts under long-running processes: test a pooled connection before use.
        return create_engine(parsed, pool_pre_ping=True)
    if parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(parsed)

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn: Any, _record: Any) -> None:
        # WAL lets the server read while a cycle writes; the busy timeout rides out short locks.
        cur = dbapi_conn.cursor()
        # The busy timeout first: switching a fresh file to WAL takes a lock that another process starting at
        # the same moment may hold for an instant.
        cur.execute("PRAGMA busy_timeout=10000")
        # SQLite does not always call the busy handler for the switch to WAL (it answers "locked" at once
        # when waiting could deadlock with another process doing the same): retry it here for as long.
        deadline = time.monotonic() + 10
        while True:
            try:
                cur.execute("PRAGMA journal_mode=WAL")
                break
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    return engine


class Store(
    CorrectionsMixin,
    ClaimsMixin,
    TranslationsMixin,
    ArticlesMixin,
    TranslationMemoryMixin,
    SourcesMixin,
    PublishingMixin,
    PullsMixin,
    ServiceMixin,
    LocksMixin,
    MediaMixin,
):
    """Durable state of one instance; every method is one transaction."""

    def __init__(self, url: str, *, clock: Any = utcnow, upgrade: bool = False) -> None:
        """Open the store at `url` and check its schema revision (store/migrate.py): an empty SQLite database
        is created; `upgrade` upgrades an older SQLite store in place (what `syndicator run` does); anything
        else that is not at the code's revision raises StoreError saying to run `syndicator migrate`."""
        self.url = url
        self.clock = clock
        self.engine = connect(url)
        where = database_url(url).render_as_string(hide_password=True)
        try:
            check(self.engine, where, upgrade_sqlite=upgrade)
        except SQLAlchemyError as exc:
            self.engine.dispose()
            raise StoreError(f"cannot open the store at {where}: {exc}", hint="check store.url") from exc
        except StoreError:
            self.engine.dispose()
            raise

    @property
    def backend(self) -> str:
        """The database the store is on: "sqlite" or "postgresql"."""
        return str(self.engine.dialect.name)

    def close(self) -> None:
        """Release connections."""
        self.engine.dispose()

    @contextlib.contextmanager
    def _tx(self) -> Iterator[Any]:
        """One write transaction (base.write_transaction: on SQLite the write lock is taken up front): the only
        way anything is written to the store.

        A database error (a full disk, a lost connection) comes out as a StoreError naming the store; the
        transaction is rolled back whole.
        """
        try:
            with write_transaction(self.engine) as conn:
                yield conn
        except SQLAlchemyError as exc:
            reason = getattr(exc, "orig", None) or exc
            raise StoreError(
                f"cannot write to the store {self.engine.url.render_as_string(hide_password=True)}: {reason}",
                hint="check the disk holding the store (free space, permissions)",
            ) from exc

    def integrity_check(self) -> str:
        """SQLite's own integrity check ("ok" when the file is sound). PostgreSQL checks its own pages as it
        reads them (and recovers from its write-ahead log after a crash): "ok" once it answers."""
        with self.engine.connect() as conn:
            if self.engine.dialect.name != "sqlite":
                conn.exec_driver_sql("SELECT 1")
                return "ok"
            return "; ".join(str(r[0]) for r in conn.exec_driver_sql("PRAGMA integrity_check"))
