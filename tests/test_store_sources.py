"""The store's source state: older databases gain the new columns (the baseline revision, 0001, completes
them); page memory round-trips."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from syndicator.store import Store


def test_a_database_from_before_sources_is_upgraded_in_place(tmp_path: Path) -> None:
    db = tmp_path / "old.db"
    with sqlite3.connect(db) as conn:
        conn.execute(
            "CREATE TABLE source_state (name VARCHAR(200) PRIMARY KEY, last_poll DATETIME, "
            "last_success DATETIME, last_error TEXT NOT NULL, failures INTEGER NOT NULL, problems TEXT NOT NULL)"
        )
        conn.execute("INSERT INTO source_state VALUES ('newsroom', NULL, NULL, '', 0, '[]')")
    store = Store(f"sqlite:///{db}", upgrade=True)
    try:
        state = store.source_states()["newsroom"]
        assert state["next_poll"] is None and state["failures"] == 0
        store.record_poll("newsroom", error="boom")
        assert store.source_states()["newsroom"]["failures"] == 1
    finally:
        store.close()


def test_page_memory(store_url: str) -> None:
    store = Store(store_url)
    try:
        assert store.page_state("site", "http://x/a") == ("", "", "")
        store.save_page_state("site", "http://x/a", etag='"1"', last_modified="Sun, 01 Mar 2026 00:00:00 GMT")
        store.save_page_state("site", "http://x/a", fingerprint="f")
        assert store.page_state("site", "http://x/a") == ('"1"', "Sun, 01 Mar 2026 00:00:00 GMT", "f")
        assert store.page_state("other", "http://x/a") == ("", "", "")
    finally:
        store.close()


def test_old_articles_table_gains_canonical_url_and_its_unique_index(tmp_path: Path) -> None:
    db = tmp_path / "old.db"
    with sqlite3.connect(db) as conn:
        conn.execute(
            "CREATE TABLE articles (id INTEGER PRIMARY KEY, source VARCHAR(200) NOT NULL, key VARCHAR(500) NOT NULL,"
            " language VARCHAR(35) NOT NULL, title TEXT NOT NULL, summary TEXT NOT NULL, body_html TEXT NOT NULL,"
            " author TEXT NOT NULL, tags TEXT NOT NULL, image TEXT NOT NULL, url TEXT NOT NULL, origin TEXT NOT NULL,"
            " published DATETIME NOT NULL, first_seen DATETIME NOT NULL, updated DATETIME NOT NULL,"
            " content_hash VARCHAR(64) NOT NULL, UNIQUE (source, key))"
        )
    Store(f"sqlite:///{db}", upgrade=True).close()
    with sqlite3.connect(db) as conn:
        columns = {row[1] for row in conn.execute("PRAGMA table_info(articles)")}
        indexes = {row[1] for row in conn.execute("PRAGMA index_list(articles)")}
    assert "canonical_url" in columns and "uq_articles_canonical_url" in indexes
