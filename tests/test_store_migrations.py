"""Schema revisions (Alembic): what opening a store does at each revision, `syndicator migrate`, upgrading a store
made by the code before revisions (tests/data/store/main-8871bd5.sql, dumped from a store that code filled, by
main-8871bd5.py), interrupted upgrades, and copying a store into another database (`migrate --to`)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import MetaData, Table, create_engine, event, select, text
from sqlalchemy.engine import Engine

from syndicator.cli import main
from syndicator.errors import StoreError
from syndicator.models import FAILED, ArticleInput, MediaFile, Translation
from syndicator.store import Store, connect
from syndicator.store.base import write_transaction
from syndicator.store.migrate import known_revisions, upgrade
from syndicator.store.schema import REVISION, metadata
from tests.support.postgres import PostgresServer

LEGACY = Path(__file__).parent / "data" / "store" / "main-8871bd5.sql"
TWIN = (
    "INSERT INTO articles VALUES(5,'wire','bridge-again','en','Again','','','','[]','','https://news.example.org/"
    "bridge','x','2026-03-01 11:00:00.000000','2026-03-01 12:30:00.000000','2026-03-01 12:30:00.000000','h5',"
    "'https://news.example.org/bridge')"
)


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A new, empty database on each database the store runs on."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    server: PostgresServer = request.getfixturevalue("postgres")
    return server.database()


@pytest.fixture
def engine_of() -> Iterator[Callable[[str], Engine]]:
    made: list[Engine] = []

    def make(url: str) -> Engine:
        made.append(connect(url))
        return made[-1]

    yield make
    for engine in made:
        engine.dispose()


def alembic(engine: Engine, action: str, revision: str) -> None:
    """Run an Alembic command on the store's revisions, inside one write transaction."""
    from syndicator.store import migrate

    with write_transaction(engine) as conn:
        getattr(command, action)(migrate._config(conn), revision)


def load_legacy(engine: Engine, *extra: str) -> None:
    """The store main-8871bd5 made: its SQLite dump as is, or its rows in a PostgreSQL database at 0001 (the
    same schema: revision 0001 is that code's schema, frozen)."""
    script = LEGACY.read_text(encoding="utf-8")
    if engine.dialect.name == "sqlite":
        with sqlite3.connect(str(engine.url.database)) as db:
            db.executescript(script)
            for statement in extra:
                db.execute(statement)
        return
    alembic(engine, "upgrade", "0001")
    dump = create_engine("sqlite://")
    try:
        with dump.begin() as conn:
            conn.connection.executescript(script)  # type: ignore[union-attr]
            for statement in extra:
                conn.exec_driver_sql(statement)
        old = MetaData()
        old.reflect(dump)  # typed as the old code wrote them: booleans and datetimes come back as such
        with dump.connect() as src, engine.begin() as dst:
            for table in old.sorted_tables:
                records = [dict(r._mapping) for r in src.execute(select(table))]
                if records:
                    dst.execute(Table(table.name, MetaData(), autoload_with=dst).insert(), records)
            dst.execute(text("SELECT setval(pg_get_serial_sequence('articles', 'id'), 100)"))
    finally:
        dump.dispose()


def rows(engine: Engine, columns_of: dict[str, list[str]] | None = None) -> dict[str, list[tuple[Any, ...]]]:
    """Every table's rows (those columns), in key order, as Python values: comparable across databases."""
    out = {}
    with engine.connect() as conn:
        for table in metadata.sorted_tables:
            if columns_of is not None and table.name not in columns_of:
                continue  # a table later revisions added
            names = columns_of[table.name] if columns_of else [c.name for c in table.columns]
            query = select(*(table.c[n] for n in names)).order_by(*table.primary_key)
            out[table.name] = [tuple(r) for r in conn.execute(query)]
    return out


# Added after revision 0002's time: publish_journal (0003), translations.unknown_ratio and .tags (0004),
# source_state.poll_started and polls (0005), articles.modified and .upstream_key and translations.revised
# (0006), articles.withdrawn_at and .withdrawn_reason (0009), translations.depends (0010); claims (0002) too.
LATER_COLUMNS = ("claimed_by", "claimed_until", "poll_started", "modified", "upstream_key", "withdrawn_at",
                 "withdrawn_reason")  # fmt: skip
LATER_TRANSLATION_COLUMNS = ("unknown_ratio", "tags", "revised", "depends")
LATER_TABLES = ("publish_journal", "polls", "media")


def old_columns() -> dict[str, list[str]]:
    """The tables and columns there were before revision 0002."""
    return {t.name: [c.name for c in t.columns if c.name not in LATER_COLUMNS
                     and not (t.name == "translations" and c.name in LATER_TRANSLATION_COLUMNS)]
            for t in metadata.sorted_tables if t.name not in LATER_TABLES}  # fmt: skip


# -- revisions against schema.py -----------------------------------------------------------------------------------


def test_the_code_revision_is_the_newest_migration() -> None:
    revisions = known_revisions()
    assert revisions[-1] == REVISION
    assert revisions == sorted(revisions)  # one line, no branches


def test_the_migrations_build_exactly_the_schema_of_schema_py(
    empty_url: str, engine_of: Callable[[str], Engine]
) -> None:
    """A database upgraded revision by revision equals one created from schema.py (as a new store is): a
    change to schema.py without its migration fails here."""
    engine = engine_of(empty_url)
    alembic(engine, "upgrade", "head")
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "compare_server_default": False}
        )
        assert compare_metadata(context, metadata) == []
    # And back down to the baseline and up again (for developers trying a revision).
    alembic(engine, "downgrade", "0001")
    alembic(engine, "upgrade", "head")
    assert Store(empty_url).article_count() == 0


# -- opening a store at each revision ------------------------------------------------------------------------------


def test_a_new_sqlite_store_is_created_and_opening_it_again_changes_nothing(tmp_path: Path) -> None:
    db = tmp_path / "data" / "s.db"
    Store(f"sqlite:///{db}").close()
    schema = sqlite3.connect(db).execute("SELECT sql FROM sqlite_master ORDER BY name").fetchall()
    statements: list[str] = []
    store = Store(f"sqlite:///{db}")
    event.listen(store.engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    store.article_count()
    store.close()
    assert sqlite3.connect(db).execute("SELECT sql FROM sqlite_master ORDER BY name").fetchall() == schema
    assert sqlite3.connect(db).execute("SELECT version_num FROM alembic_version").fetchall() == [(REVISION,)]
    assert not [s for s in statements if s.lstrip().upper().startswith(("CREATE", "ALTER", "DROP"))]


def test_postgresql_is_never_changed_implicitly(postgres: PostgresServer, tmp_path: Path) -> None:
    url = postgres.database()
    with pytest.raises(StoreError, match="empty; this syndicator needs revision") as empty:
        Store(url, upgrade=True)
    assert "syndicator migrate" in str(empty.value.hint)
    engine = connect(url)
    try:
        alembic(engine, "upgrade", "0001")
        with pytest.raises(StoreError, match="revision 0001"):
            Store(url, upgrade=True)
        before, after = upgrade(engine)
        assert (before.revision, after.revision) == ("0001", REVISION)
        assert upgrade(engine)[0] == after  # again: nothing to do
    finally:
        engine.dispose()
    Store(url).close()


def test_a_store_newer_than_the_code_stops_every_command(
    empty_url: str, engine_of: Callable[[str], Engine]
) -> None:
    engine = engine_of(empty_url)
    upgrade(engine)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(StoreError, match="newer") as newer:
        Store(empty_url, upgrade=True)
    assert "install" in str(newer.value.hint)
    with pytest.raises(StoreError, match="newer"):
        upgrade(engine)


# -- a store made by the code before revisions ------------------------------------------------------------------


def test_a_store_from_before_revisions_is_upgraded_without_losing_a_row(
    empty_url: str, engine_of: Callable[[str], Engine]
) -> None:
    engine = engine_of(empty_url)
    load_legacy(engine, TWIN)
    before = rows(engine, old_columns())
    assert len(before["articles"]) == 5 and len(before["translations"]) == 8
    if engine.dialect.name == "sqlite":
        with pytest.raises(StoreError, match="made before schema revisions") as old:
            Store(empty_url)
        assert "syndicator migrate" in str(old.value.hint)
    upgrade(engine)
    columns = old_columns()
    after = rows(engine, columns)
    # The article stored twice by racing pollers (5) keeps its row; only its duplicate mark goes.
    twin = next(r for r in before["articles"] if r[0] == 5)
    assert after["articles"][4] == tuple("" if name == "canonical_url" else v
                                         for name, v in zip(old_columns()["articles"], twin, strict=True))  # fmt: skip
    assert {**after, "articles": after["articles"][:4], "translations": []} == {
        **before, "articles": before["articles"][:4], "translations": []}  # fmt: skip
    # 0006: a machine translation is dated like its article (here never changed: its publication); a reviewed
    # one keeps its date, and when its text last changed is kept as `revised`.
    published = {r[0]: r[columns["articles"].index("published")] for r in after["articles"]}
    at = columns["translations"].index("updated")
    for old, new in zip(before["translations"], after["translations"], strict=True):
        reviewed = new[columns["translations"].index("reviewed")]
        expected = old[at] if reviewed or old[at] is None else published[old[0]]
        assert new == (*old[:at], expected, *old[at + 1 :])
    revised = rows(engine, {"translations": ["revised"]})["translations"]
    assert revised == [(r[at],) for r in before["translations"]]

    store = Store(empty_url)
    try:
        assert store.counts()["fr"] == {"done": 2, "pending": 1}
        assert store.translation_memory_stats() == {"en-fr": (2, 3, 2)}
        assert store.translations_for([2], "fr")[2].reviewed  # booleans read back as booleans
        assert store.claim("fr", "w1") == [3]
        item = ArticleInput("site", "x", "en", "t", "<p>b</p>", after["articles"][0][12], url="")
        assert store.upsert_article(item, "h", "https://news.example.org/bridge")[1] == "duplicate"
        assert store.upsert_article(item, "h", "https://news.example.org/new")[1] == "new"
    finally:
        store.close()


def test_syndicator_run_upgrades_an_embedded_sqlite_store(
    make_instance: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """The decision documented in docs/scale-out.md: `run` upgrades SQLite in place, other commands ask for
    `syndicator migrate`; a fresh instance just runs (README's first command)."""
    root = make_instance(engine="pseudo", targets=("fr",))
    config = str(root / "config" / "syndicator.toml")
    (root / "data").mkdir()
    with sqlite3.connect(root / "data" / "syndicator.db") as db:
        db.executescript(LEGACY.read_text(encoding="utf-8"))
    assert main(["-q", "--config", config, "status"]) == 1
    assert "syndicator migrate" in capsys.readouterr().err
    assert main(["-q", "--config", config, "run", "--once"]) == 0
    store = Store(f"sqlite:///{root / 'data' / 'syndicator.db'}")
    try:
        keys = {a.key for a in store.articles()}
        assert {"bridge", "garden", "budget", "marche"} <= keys and len(keys) > 4
    finally:
        store.close()
    assert main(["-q", "--config", config, "status"]) == 0


# -- an upgrade cut short ----------------------------------------------------------------------------------------


class Cut(Exception):
    """The fault injected into an upgrade."""


def test_an_upgrade_cut_at_any_statement_leaves_the_store_as_it_was(
    empty_url: str, engine_of: Callable[[str], Engine]
) -> None:
    """Each statement of the upgrade in turn fails (a kill, a full disk): the store stays at its old
    revision with every row, until the upgrade that no cut reaches completes."""
    engine = engine_of(empty_url)
    load_legacy(engine)
    before = picture(engine)
    n = 0
    while True:
        n += 1
        seen = [0]

        def cut(*_: Any, n: int = n, seen: list[int] = seen) -> None:
            seen[0] += 1
            if seen[0] == n:
                raise Cut(f"statement {n}")

        event.listen(engine, "before_cursor_execute", cut)
        try:
            upgrade(engine)
        except (Cut, StoreError):
            assert picture(engine) == before, f"cut at statement {n}"
            continue
        finally:
            event.remove(engine, "before_cursor_execute", cut)
        break
    assert n > 10  # the cuts went through the whole upgrade
    assert rows(engine, old_columns())["articles"][0][1] == "newsroom"


def picture(engine: Engine) -> tuple[Any, ...]:
    """Every table's columns and rows and every index, whatever the schema: the whole store."""
    from sqlalchemy import inspect

    with engine.connect() as conn:
        inspector = inspect(conn)
        names = sorted(inspector.get_table_names())
        tables = []
        for name in names:
            columns = sorted(c["name"] for c in inspector.get_columns(name))
            quoted = ", ".join(f'"{c}"' for c in columns)
            tables.append(
                (name, columns, sorted(map(repr, conn.execute(text(f"SELECT {quoted} FROM {name}")))))
            )
        indexes = sorted(i["name"] or "" for name in names for i in inspector.get_indexes(name))
    return tuple(tables), tuple(indexes)


# -- copying a store into another database ------------------------------------------------------------------------


def test_migrate_to_copies_an_instance_into_postgresql_and_back(
    make_instance: Callable[..., Path],
    postgres: PostgresServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = make_instance(engine="pseudo", targets=("fr",))
    config = str(root / "config" / "syndicator.toml")
    (root / "data").mkdir()
    with sqlite3.connect(root / "data" / "syndicator.db") as db:
        db.executescript(LEGACY.read_text(encoding="utf-8"))
    target = postgres.database()
    assert main(["--config", config, "migrate", "--to", target]) == 0
    out = capsys.readouterr().out
    assert "upgraded to revision" in out and "4 articles" in out and "8 translations" in out
    source, copy = connect(f"sqlite:///{root / 'data' / 'syndicator.db'}"), connect(target)
    try:
        assert rows(copy) == rows(source)
    finally:
        source.dispose()
        copy.dispose()

    # The copy is a working store: ids continue after the copied ones; the instance runs on it.
    store = Store(target)
    try:
        new, state = store.upsert_article(ArticleInput("s", "k", "en", "t", "<p>b</p>", store.articles()[0].published),
                                          "h", "")  # fmt: skip
        assert (state, new) == ("new", 5)
    finally:
        store.close()
    assert main(["-q", "--config", config, "--set", f"store.url={target}", "run", "--once"]) == 0

    # Never into a database that holds a store already: nothing is written.
    assert main(["-q", "--config", config, "migrate", "--to", target]) == 1
    assert "already holds" in capsys.readouterr().err

    # And back into SQLite (a backup of a PostgreSQL store), with more images than one copy batch holds.
    store = Store(target)
    try:
        for n in range(20):
            store.save_media(MediaFile(b"\x89PNG\r\n\x1a\n" + bytes([n]) * 5000, "png"))
    finally:
        store.close()
    back = f"sqlite:///{tmp_path / 'back.db'}"
    assert main(["-q", "--config", config, "--set", f"store.url={target}", "migrate", "--to", back]) == 0
    source, copy = connect(target), connect(back)
    try:
        assert rows(copy) == rows(source)
        assert len(rows(copy)["media"]) == 20
    finally:
        source.dispose()
        copy.dispose()


# -- 0008: language codes in their BCP 47 spelling -------------------------------------------------------------


def test_a_store_of_underscore_codes_keeps_its_rows_under_the_bcp47_spelling(
    empty_url: str, engine_of: Callable[[str], Engine]
) -> None:
    """An instance configured as "pt_BR" (and "iw") before codes were read as BCP 47: its translations, memory
    and publish state answer to "pt-BR" and "he" after the upgrade, instead of being queued again."""
    engine = engine_of(empty_url)
    alembic(engine, "upgrade", "head")
    store = Store(empty_url)
    try:
        when = datetime(2026, 3, 1, tzinfo=UTC)
        store.upsert_article(ArticleInput("site", "bridge", "en", "Bridge", "<p>Open.</p>", when), "h")
        store.upsert_article(ArticleInput("site", "ponte", "pt_BR", "Ponte", "<p>Aberta.</p>", when), "p")
        assert store.ensure_languages(["en", "pt_BR", "iw", "fr"]) > 0
        store.translation_memory_store("en>pt_BR", "m", [("h1", "Open.", "Aberta.")])
        store.record_publish("pt_BR", 3)
    finally:
        store.close()
    alembic(engine, "downgrade", "0007")
    alembic(engine, "upgrade", "head")
    store = Store(empty_url)
    try:
        assert set(store.counts()) == {"en", "pt-BR", "he", "fr"}
        assert {a.language for a in store.articles()} == {"en", "pt-BR"}
        assert store.translation_memory_lookup("en>pt-BR", "m", ["h1"]) == {"h1": "Aberta."}
        assert "publish:pt-BR" in store.states("publish:")
        assert store.ensure_languages(["en", "pt-BR", "he", "fr"]) == 0  # nothing queued again
    finally:
        store.close()


# -- 0010: what a refusal depended on ----------------------------------------------------------------------------


def test_failed_rows_from_before_refusals_keep_their_timed_retries(
    empty_url: str, engine_of: Callable[[str], Engine]
) -> None:
    """Rows failed before 0010 have no fingerprint: they are retried on their timer as before, while a
    refusal recorded after it waits for a change (not for the clock)."""
    engine = engine_of(empty_url)
    alembic(engine, "upgrade", "head")
    store = Store(empty_url)
    try:
        when = datetime(2026, 3, 1, tzinfo=UTC)
        ids = [store.upsert_article(ArticleInput("site", k, "en", k, "<p>Open.</p>", when), k)[0]
               for k in ("old", "new")]  # fmt: skip
        store.ensure_languages(["fr"])
        for i in ids:
            store.save_translation(Translation(i, "fr", FAILED, error="gate"), backoff=lambda n: timedelta(0))
    finally:
        store.close()
    alembic(engine, "downgrade", "0009")
    alembic(engine, "upgrade", "head")
    store = Store(empty_url)
    try:
        assert store.retries_due() == 2  # "" for both: timed, as before
        store.save_translation(Translation(ids[1], "fr", FAILED, error="gate", depends="x" * 64))
        assert store.retries_due() == 1 and store.refused() == [("en", "fr", "x" * 64)]
        assert store.retry_refused("en", "fr", "x" * 64) == 0  # nothing changed
        assert store.retry_refused("en", "fr", "y" * 64) == 1  # the engine, model, glossary or bounds did
    finally:
        store.close()
