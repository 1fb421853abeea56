"""Concurrent writers, each with its own store and connections (as separate processes or machines would have):
what one key allows is settled by the database's constraints and ON CONFLICT, not by a lock in the process."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import pytest
from sqlalchemy import text

from syndicator.models import ArticleInput
from syndicator.store import Store
from tests.support.postgres import PostgresServer

WRITERS = 6
ROUNDS = 8
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
R = TypeVar("R")


@pytest.fixture
def stores(store_url: str) -> Iterator[list[Store]]:
    opened = [Store(store_url) for _ in range(WRITERS)]
    try:
        yield opened
    finally:
        for s in opened:
            s.close()


def race(stores: list[Store], work: Callable[[int, Store], R]) -> list[R]:
    """Run work(i, store i) in one thread per store, all released at the same moment; return the results."""
    start = threading.Barrier(len(stores))
    results: list[Any] = [None] * len(stores)
    errors: list[BaseException] = []

    def run(i: int) -> None:
        start.wait()
        try:
            results[i] = work(i, stores[i])
        except BaseException as exc:  # re-raised in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(stores))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    if errors:
        raise errors[0]
    return results


def article(key: str, source: str = "newsroom") -> ArticleInput:
    return ArticleInput(source, key, "en", f"Title {key}", f"<p>{key}</p>", T0)


def test_racing_writers_store_one_article_once(stores: list[Store]) -> None:
    for n in range(ROUNDS):
        # The same (source, key) from every writer at once: one stores it, the others find it.
        states = race(stores, lambda _i, s, n=n: s.upsert_article(article(f"same-{n}"), "h", ""))
        assert sorted(state for _, state in states) == ["new"] + ["unchanged"] * (WRITERS - 1)
        assert len({article_id for article_id, _ in states}) == 1
        # One canonical URL through as many sources: stored once, the others are duplicates of it.
        url = f"https://news.example.org/story-{n}"
        states = race(
            stores, lambda i, s, n=n, url=url: s.upsert_article(article(f"k{n}", f"src{i}"), "h", url)
        )
        assert sorted(state for _, state in states) == ["duplicate"] * (WRITERS - 1) + ["new"]
        assert len({article_id for article_id, _ in states}) == 1
    assert stores[0].article_count() == 2 * ROUNDS


def test_racing_workers_claim_each_translation_once(stores: list[Store]) -> None:
    first = stores[0]
    for n in range(12):
        article_id, _ = first.upsert_article(article(f"a{n}"), "h", "")
        first.ensure_pending(first.article(article_id), ["fr", "ar"])
    # The same batch handed to every worker (a task delivered twice, or overlapping plans): all at once.
    batch = [i for i, _ in first.pending("fr")]
    claimed = race(stores, lambda i, s: s.claim("fr", f"w{i}", article_ids=batch, limit=5))
    taken = [a for ids in claimed for a in ids]
    assert len(taken) == len(set(taken)) == len(batch)  # nobody twice, and the limit left nothing behind
    assert {owner for _, _, owner, _ in first.claims("fr")} == {
        f"w{i}" for i, ids in enumerate(claimed) if ids
    }
    assert first.claims("ar") == []


def test_racing_counters_all_count(stores: list[Store]) -> None:
    def count(i: int, s: Store) -> None:
        for _ in range(ROUNDS):
            s.translation_memory_count("en-fr", 1, 2)
            s.record_poll("wire", error="timeout")
            s.record_pulls([{"day": "2026-03-01", "partner": "", "feed": "fr/atom.xml", "pulls": 1,
                             "not_modified": 1, "last_pull": T0 + timedelta(seconds=i), "user_agent": f"r{i}"}])  # fmt: skip
            s.translation_memory_store("en-fr", "m", [("h", "Hello.", f"Bonjour {i}.")])

    race(stores, count)
    total = WRITERS * ROUNDS
    s = stores[0]
    assert s.translation_memory_stats() == {"en-fr": (1, total, 2 * total)}
    assert s.source_states()["wire"]["failures"] == total
    (row,) = s.pull_stats("2026-03-01")
    assert (row["pulls"], row["not_modified"], row["user_agent"]) == (total, total, f"r{WRITERS - 1}")


# -- PostgreSQL, step by step: a writer that has not committed yet ----------------------------------------------


@pytest.fixture
def pg_store(postgres: PostgresServer) -> Iterator[tuple[Store, str]]:
    from sqlalchemy import create_engine, make_url

    from syndicator.store.migrate import upgrade

    url = postgres.database()
    engine = create_engine(url)
    upgrade(engine)
    engine.dispose()
    store = Store(url)
    try:
        yield store, str(make_url(url).database)
    finally:
        store.close()


def _wait_for_lock_wait(store: Store, deadline: float = 60.0) -> None:
    """Poll until some session of this database waits on a lock (generous deadline, no fixed sleep)."""
    end = time.monotonic() + deadline
    with store.engine.connect() as conn:
        while time.monotonic() < end:
            waiting = conn.execute(
                text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                     "AND wait_event_type = 'Lock'")
            ).scalar()  # fmt: skip
            if waiting:
                return
            time.sleep(0.05)
    raise AssertionError("no session ever waited on a lock")


def test_an_uncommitted_twin_makes_the_second_writer_wait_then_see_a_duplicate(
    pg_store: tuple[Store, str], postgres: PostgresServer
) -> None:
    """What the old process-local lock could not do across processes: the unique index holds the second
    insert until the first commits, then ON CONFLICT turns it into a duplicate."""
    store, database = pg_store
    url = "https://news.example.org/story"
    result: list[tuple[int, str]] = []
    with postgres.connect(database) as first:
        first.autocommit = False
        first.execute(
            "INSERT INTO articles (source, key, language, title, summary, body_html, author, tags, image, url, "
            "origin, published, first_seen, updated, content_hash, canonical_url) VALUES "
            "('wire', 'a', 'en', 't', '', '', '', '[]', '', '', '', now(), now(), now(), 'h', %s)",
            (url,),
        )
        second = threading.Thread(
            target=lambda: result.append(store.upsert_article(article("b", "site"), "h", url))
        )
        second.start()
        _wait_for_lock_wait(store)
        assert not result  # still waiting for the first writer
        first.commit()
        second.join(timeout=60)
    ((_, state),) = result
    assert state == "duplicate"
    assert store.article_count() == 1


def test_a_claim_skips_rows_another_claimer_holds_without_waiting(
    pg_store: tuple[Store, str], postgres: PostgresServer
) -> None:
    store, database = pg_store
    for n in range(4):
        article_id, _ = store.upsert_article(article(f"a{n}"), "h", "")
        store.ensure_pending(store.article(article_id), ["fr"])
    ids = [i for i, _ in store.pending("fr")]
    with postgres.connect(database) as other:
        other.autocommit = False
        # Another worker in the middle of its claim: it holds the first two rows' locks.
        other.execute(
            "SELECT article_id FROM translations WHERE language = 'fr' AND article_id IN (%s, %s) FOR UPDATE",
            (ids[0], ids[1]),
        )
        assert store.claim("fr", "w2") == ids[2:]  # returns at once: no lock wait, no row taken twice
        other.rollback()
    assert store.claim("fr", "w3") == ids[:2]
