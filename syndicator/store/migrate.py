"""Schema revisions: which one a store's database is at, upgrading it (Alembic), and copying a store into
another database (`syndicator migrate --to`).

Opening a store only reads its revision: no DDL. What happens when it is not the code's (schema.REVISION):

- an empty SQLite database is created at the current revision (a fresh instance just runs);
- an older store, or one made before revisions existed, is upgraded by `syndicator migrate`; `syndicator run`
  does that itself on SQLite, where the running service is the store's only user;
- PostgreSQL is never changed implicitly: it is shared by processes on several machines, some of which may still
  run the previous release. `syndicator migrate` creates and upgrades it, once per release, before the new code
  starts.
- a store newer than the code stops every command: this machine runs an older syndicator than the one that
  upgraded it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, inspect, select, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from syndicator.errors import StoreError
from syndicator.store.base import write_transaction
from syndicator.store.schema import REVISION, clean_text, metadata

log = logging.getLogger(__name__)

VERSION_TABLE = "alembic_version"
# Two `syndicator migrate` started at once on one PostgreSQL database take turns (a transaction-level advisory
# lock; the number is arbitrary but fixed: "syndicat" in ASCII, as a signed 64-bit integer).
MIGRATE_LOCK = 0x73796E6469636174
COPY_ROWS = 1000  # rows per statement when copying a store


@dataclass(frozen=True)
class SchemaState:
    """What a database holds: its recorded revision (None: none recorded) and whether it has our tables."""

    revision: str | None
    has_tables: bool

    @property
    def kind(self) -> str:
        """ "current", "empty", "unversioned" (made before revisions), or "other" (older or newer)."""
        if self.revision == REVISION:
            return "current"
        if self.revision is not None:
            return "other"
        return "unversioned" if self.has_tables else "empty"

    def describe(self) -> str:
        """The state in words, for messages."""
        if self.revision is not None:
            return f"revision {self.revision}"
        return "made before schema revisions existed" if self.has_tables else "empty"


def schema_state(conn: Connection) -> SchemaState:
    """Read the database's revision (one query when it has one)."""
    names = set(inspect(conn).get_table_names())
    revision = None
    if VERSION_TABLE in names:
        revision = conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar()
    return SchemaState(revision=revision, has_tables=bool(names & set(metadata.tables)))


def known_revisions() -> list[str]:
    """Every revision shipped with this code, oldest first."""
    script = _script()
    return [s.revision for s in reversed(list(script.walk_revisions()))]


def check(engine: Engine, where: str, *, upgrade_sqlite: bool = False) -> None:
    """Open-time check: return when the store is at the code's revision, after creating an empty SQLite one
    (or upgrading an older SQLite one when `upgrade_sqlite`); raise StoreError saying what to do otherwise."""
    with engine.connect() as conn:
        state = schema_state(conn)
        if engine.dialect.name == "postgresql":
            encoding = conn.execute(text("SHOW server_encoding")).scalar()
            if str(encoding).upper() not in ("UTF8", "UTF-8"):
                raise StoreError(
                    f"the store at {where} uses the encoding {encoding}, which cannot hold every language",
                    hint="create the database with: createdb -E UTF8 -T template0 NAME",
                )
    if state.kind == "current":
        return
    sqlite = engine.dialect.name == "sqlite"
    if sqlite and (state.kind == "empty" or upgrade_sqlite) and not _newer(state):
        upgrade(engine)
        return
    if _newer(state):
        raise StoreError(
            f"the store at {where} is at revision {state.revision}, newer than this syndicator knows "
            f"(revision {REVISION}): a newer release upgraded it",
            hint="install the release that upgraded the store on this machine too",
        )
    raise StoreError(
        f"the store at {where} is {state.describe()}; this syndicator needs revision {REVISION}",
        hint="run `syndicator migrate` (back the store up first), then start again",
    )


def _newer(state: SchemaState) -> bool:
    return state.revision is not None and state.revision not in known_revisions()


def upgrade(engine: Engine) -> tuple[SchemaState, SchemaState]:
    """Bring the store to the code's revision in one transaction; return (state before, state after).

    An empty database is created from schema.py and stamped; anything older runs the revisions after its own
    (a store made before revisions starts from the baseline). A failure rolls everything back.
    """
    from alembic import command

    try:
        with write_transaction(engine) as conn:
            if engine.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATE_LOCK})
            before = schema_state(conn)
            if before.kind == "current":
                return before, before
            if _newer(before):
                raise StoreError(
                    f"the store is at revision {before.revision}, newer than this syndicator ({REVISION})",
                    hint="upgrade syndicator on this machine",
                )
            config = _config(conn)
            with _quiet_alembic():
                if before.kind == "empty":
                    metadata.create_all(conn)
                    command.stamp(config, "head")
                else:
                    command.upgrade(config, "head")
            after = schema_state(conn)
    except SQLAlchemyError as exc:
        raise StoreError(f"upgrading the store failed, nothing was changed: {exc}") from exc
    log.info("store: %s → revision %s", before.describe(), after.revision)
    return before, after


@contextmanager
def _quiet_alembic() -> Iterator[None]:
    """Alembic narrates every step at INFO; our one line says what changed (its narration stays in --debug)."""
    alembic = logging.getLogger("alembic")
    level = alembic.level
    if not log.isEnabledFor(logging.DEBUG):
        alembic.setLevel(logging.WARNING)
    try:
        yield
    finally:
        alembic.setLevel(level)


def _config(conn: Connection | None = None) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", "syndicator.store:migrations")
    if conn is not None:
        config.attributes["connection"] = conn
    return config


def _script() -> Any:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_config())


# -- copying a store into another database -------------------------------------------------------------------


@contextmanager
def _snapshot(engine: Engine) -> Iterator[Connection]:
    """A connection whose reads all see one moment of the store, even while a service writes to it."""
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            # The sqlite3 module begins no transaction for reads; in WAL mode an explicit one is a snapshot.
            raw = conn.execution_options(isolation_level="AUTOCOMMIT")
            raw.exec_driver_sql("BEGIN")
            try:
                yield raw
            finally:
                raw.exec_driver_sql("ROLLBACK")
            return
        with conn.execution_options(isolation_level="REPEATABLE READ").begin():
            yield conn


def copy_store(
    source: Engine, target: Engine, progress: Callable[[str, int], None] | None = None
) -> dict[str, int]:
    """Copy every row of a store into another, empty database at the same revision, in one transaction of the
    target (a failure leaves it empty); return rows per table. NUL characters, which PostgreSQL cannot store,
    are dropped from text on the way."""
    counts: dict[str, int] = {}
    with _snapshot(source) as src:
        state = schema_state(src)
        if state.kind != "current":
            raise StoreError(f"the store to copy is {state.describe()}, not revision {REVISION}",
                             hint="run `syndicator migrate` on it first")  # fmt: skip
        try:
            with write_transaction(target) as dst:
                if schema_state(dst).kind != "current":
                    raise StoreError("the target database is not at the current revision",
                                     hint="run `syndicator migrate` against it first")  # fmt: skip
                for table in metadata.sorted_tables:
                    held = dst.execute(select(func.count()).select_from(table)).scalar_one()
                    if held:
                        raise StoreError(
                            f"the target database already holds {held} row(s) in {table.name}",
                            hint="copy into a new, empty database",
                        )
                for table in metadata.sorted_tables:
                    counts[table.name] = _copy_table(src, dst, table, progress)
                if target.dialect.name == "postgresql":
                    # Rows came with their ids: the id sequence must continue after the highest one.
                    for table in metadata.sorted_tables:
                        column = table.autoincrement_column
                        if column is not None:
                            dst.execute(
                                text(
                                    f"SELECT setval(pg_get_serial_sequence('{table.name}', '{column.name}'), "
                                    f"coalesce((SELECT max({column.name}) FROM {table.name}), 0) + 1, false)"
                                )
                            )
        except SQLAlchemyError as exc:
            raise StoreError(f"copying the store failed, the target is left empty: {exc}") from exc
    return counts


def _copy_table(
    src: Connection, dst: Connection, table: Any, progress: Callable[[str, int], None] | None
) -> int:
    copied = 0
    rows_per = int(table.info.get("copy_rows", COPY_ROWS))  # fewer for tables of large values (media)
    result = src.execution_options(yield_per=rows_per).execute(select(table).order_by(*table.primary_key))
    for chunk in result.partitions():
        rows = [
            {k: clean_text(v) if isinstance(v, str) else v for k, v in row._mapping.items()} for row in chunk
        ]
        dst.execute(table.insert(), rows)
        copied += len(rows)
        if progress is not None:
            progress(table.name, copied)
    held = dst.execute(select(func.count()).select_from(table)).scalar_one()
    if held != copied:
        raise StoreError(f"copying {table.name}: {copied} row(s) read, {held} written")
    return copied
