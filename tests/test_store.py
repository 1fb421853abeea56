"""The store's API on every database it runs on (SQLite and a real PostgreSQL, `store_url` in conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from syndicator.models import DONE, FAILED, PENDING, ArticleInput, MediaFile, Translation
from syndicator.store import Store
from syndicator.store.schema import KEY_BYTES, articles, translations

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


class Clock:
    """A clock the test moves."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(store_url: str, clock: Clock) -> Iterator[Store]:
    s = Store(store_url, clock=clock)
    try:
        yield s
    finally:
        s.close()


def item(key: str, source: str = "newsroom", title: str = "Title", url: str = "") -> ArticleInput:
    return ArticleInput(source, key, "en", title, f"<p>{key}</p>", T0, url=url)


def add(store: Store, key: str, languages: tuple[str, ...] = ("fr",), canonical: str = "") -> int:
    article_id, _ = store.upsert_article(item(key), f"h-{key}", canonical)
    store.ensure_pending(store.article(article_id), languages)
    return article_id


# -- articles --------------------------------------------------------------------------------------------------


def test_an_article_is_stored_once_and_updated_by_its_hash(store: Store, clock: Clock) -> None:
    first, state = store.upsert_article(item("a"), "h1", "https://news.example.org/a")
    assert state == "new"
    assert store.upsert_article(item("a"), "h1", "https://news.example.org/a") == (first, "unchanged")
    clock.now += timedelta(minutes=1)
    assert store.upsert_article(item("a", title="Edited"), "h2") == (first, "updated")
    stored = store.article(first)
    assert (stored.title, stored.updated, stored.first_seen) == ("Edited", clock.now, T0)
    assert store.article_count() == 1


def test_the_same_canonical_url_through_another_source_is_a_duplicate(store: Store) -> None:
    first, _ = store.upsert_article(item("a", source="wire"), "h", "https://news.example.org/a")
    assert store.upsert_article(item("x", source="site"), "h", "https://news.example.org/a") == (
        first,
        "duplicate",
    )
    assert store.article_count() == 1


def test_articles_without_a_canonical_url_never_collide(store: Store) -> None:
    states = [store.upsert_article(item(f"k{i}", source=f"s{i}"), "h", "")[1] for i in range(3)]
    assert states == ["new"] * 3
    assert store.article_count() == 3


def test_a_canonical_url_too_long_for_an_index_entry_still_deduplicates(store: Store) -> None:
    url = "https://news.example.org/" + "ü" * KEY_BYTES
    first, _ = store.upsert_article(item("a", source="wire"), "h", url)
    assert store.upsert_article(item("b", source="site"), "h", url) == (first, "duplicate")
    other = url[:-1] + "x"
    assert store.upsert_article(item("c", source="site"), "h", other)[1] == "new"


def test_the_database_itself_refuses_a_second_row_for_a_key(store: Store) -> None:
    """Uniqueness is the database's, not the code's: a raw insert that skips the store's checks fails."""
    add(store, "a", canonical="https://news.example.org/a")
    row = {"source": "other", "key": "b", "language": "en", "title": "t", "published": T0, "first_seen": T0,
           "updated": T0, "content_hash": "h", "canonical_url": "https://news.example.org/a"}  # fmt: skip
    with pytest.raises(IntegrityError), store.engine.begin() as conn:
        conn.execute(insert(articles).values(**row))
    with store.engine.begin() as conn:  # an empty canonical URL is exempt
        conn.execute(insert(articles).values(**{**row, "canonical_url": ""}))
        conn.execute(insert(articles).values(**{**row, "key": "c", "canonical_url": ""}))
    with pytest.raises(IntegrityError), store.engine.begin() as conn:
        conn.execute(insert(translations).values(article_id=1, language="fr", status=PENDING))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(title=st.text(max_size=300), tags=st.lists(st.text(max_size=20), max_size=3))
def test_any_text_round_trips_but_nul(store: Store, title: str, tags: list[str]) -> None:
    """PostgreSQL cannot store NUL: the store drops it on every database, so both keep the same text (tags
    are JSON, which escapes it)."""
    source = ArticleInput(
        "s", f"k{abs(hash((title, tuple(tags))))}", "en", title, "<p>b</p>", T0, tags=tuple(tags)
    )
    article_id, _ = store.upsert_article(source, "h", "")
    stored = store.article(article_id)
    assert stored.title == title.replace("\x00", "")
    assert stored.tags == tuple(tags)


# -- the translation queue ---------------------------------------------------------------------------------------


def test_queueing_is_idempotent(store: Store) -> None:
    a = add(store, "a", ("fr", "ar"))
    assert store.ensure_pending(store.article(a), ["fr", "ar"]) == 0
    b, _ = store.upsert_article(item("b"), "h-b")
    assert store.ensure_languages(["fr", "ar", "ru"]) == 4  # b in fr, ar and ru; a in ru
    assert store.ensure_languages(["fr", "ar", "ru"]) == 0
    assert store.pending() == [(a, "ar"), (a, "fr"), (a, "ru"), (b, "ar"), (b, "fr"), (b, "ru")]


def test_failed_attempts_are_counted_in_sql(store: Store, clock: Clock) -> None:
    a = add(store, "a")
    delay = lambda n: timedelta(minutes=10 * n)  # noqa: E731
    for _ in range(3):
        store.save_translation(Translation(a, "fr", FAILED, error="empty"), backoff=delay)
    (failed,) = store.failures()
    assert (failed.attempts, failed.next_retry) == (3, clock.now + timedelta(minutes=30))
    assert store.save_translation(Translation(a, "fr", DONE, title="T", body_html="<p>b</p>"))
    done = store.translations_for([a], "fr")[a]
    assert (done.status, done.attempts, done.next_retry) == (DONE, 0, None)
    assert not store.save_translation(Translation(999, "fr", FAILED))  # no such row: nothing written


def test_claims_are_disjoint_and_expire(store: Store, clock: Clock) -> None:
    ids = [add(store, f"a{i}", ("fr", "ar")) for i in range(5)]
    lease = timedelta(minutes=5)
    first = store.claim("fr", "w1", limit=3, lease=lease)
    assert first == ids[:3]
    assert store.claim("fr", "w2", lease=lease) == ids[3:]
    assert store.claim("fr", "w3", lease=lease) == []
    assert store.claim("ar", "w3", limit=1, lease=lease) == ids[:1]  # another language is other work
    assert store.claim("fr", "w1", article_ids=ids, lease=lease) == ids[:3]  # a worker's own claims: again
    assert store.pending("fr") == [(i, "fr") for i in ids]  # still pending while claimed

    clock.now += lease  # w1 died: its rows are free again, and its late outcome is not written
    assert store.claim("fr", "w3", article_ids=ids[:2], lease=lease) == ids[:2]
    assert not store.save_translation(Translation(ids[0], "fr", DONE, title="late"), claim="w1")
    assert store.save_translation(Translation(ids[0], "fr", DONE, title="T"), claim="w3")
    assert store.translations_for([ids[0]], "fr")[ids[0]].title == "T"
    # w1 still holds ids[2] (nobody took it over), so it may still write it; a write releases the claim.
    assert store.save_translation(Translation(ids[2], "fr", DONE, title="T"), claim="w1")
    assert [(i, owner) for i, _, owner, _ in store.claims("fr")] == [
        (ids[1], "w3"),
        (ids[3], "w2"),
        (ids[4], "w2"),
    ]

    clock.now += timedelta(minutes=4)
    assert store.renew_claims("w2", lease) == 2  # a long unit's heartbeat
    clock.now += timedelta(minutes=2)
    assert store.claim("fr", "w4", lease=lease) == [ids[1]]  # w3's claim expired, w2's was renewed
    assert store.release_claims("w2") == 2
    assert store.claim("fr", "w4", lease=lease) == [ids[1], ids[3], ids[4]]
    assert store.claim("fr", "w5", lease=lease) == []


def test_a_done_translation_is_never_claimed(store: Store) -> None:
    a = add(store, "a")
    store.save_translation(Translation(a, "fr", DONE, title="T", body_html="<p>b</p>"))
    assert store.claim("fr", "w1") == []


# -- counters and state ------------------------------------------------------------------------------------------


def test_counters_add_up_in_sql(store: Store) -> None:
    for _ in range(3):
        store.translation_memory_count("en-fr", 2, 1)
    store.translation_memory_store(
        "en-fr", "m1", [("h1", "Hello.", "Bonjour."), ("h1", "Hello.", "Bonjour.")]
    )
    store.translation_memory_store("en-fr", "m1", [("h1", "Hello.", "Salut."), ("h2", "Bye.", "Adieu.")])
    assert store.translation_memory_stats() == {"en-fr": (2, 6, 3)}
    assert store.translation_memory_lookup("en-fr", "m1", ["h1", "h2", "h3"]) == {
        "h1": "Bonjour.",
        "h2": "Adieu.",
    }

    later = T0 + timedelta(hours=1)
    store.record_pulls([_pull(3, 1, later, "new")])
    store.record_pulls([_pull(2, 2, T0, "old")])  # an older batch arriving late keeps the newest agent
    (row,) = store.pull_stats("2026-03-01")
    assert (row["pulls"], row["not_modified"], row["last_pull"], row["user_agent"]) == (5, 3, later, "new")

    for _ in range(2):
        store.record_poll("wire", error="timeout")
    assert store.source_states()["wire"]["failures"] == 2
    store.record_poll("wire")
    state = store.source_states()["wire"]
    assert (state["failures"], state["last_error"], state["last_error_at"]) == (0, "", T0)


def _pull(pulls: int, not_modified: int, when: datetime, agent: str) -> dict[str, object]:
    return {"day": "2026-03-01", "partner": "", "feed": "fr/atom.xml", "pulls": pulls,
            "not_modified": not_modified, "last_pull": when, "user_agent": agent}  # fmt: skip


def test_page_state_updates_only_what_it_is_given(store: Store) -> None:
    url = "https://wire.example.org/list?" + "q" * 3000  # longer than an index entry may be
    store.save_page_state("wire", url, etag='"1"', last_modified="Sun, 01 Mar 2026 00:00:00 GMT")
    store.save_page_state("wire", url, fingerprint="f")
    assert store.page_state("wire", url) == ('"1"', "Sun, 01 Mar 2026 00:00:00 GMT", "f")
    store.save_page_state("wire", url, etag='"2"')
    assert store.page_state("wire", url) == ('"2"', "Sun, 01 Mar 2026 00:00:00 GMT", "f")
    assert store.page_state("site", url) == ("", "", "")


def test_named_state_feed_pages_and_marks_are_replaced(store: Store, clock: Clock) -> None:
    store.set_state("service", "a")
    store.set_state("service", "b")
    assert store.states("serv") == {"service": ("b", T0)}
    store.set_state("service", "")
    assert store.states() == {}

    store.set_state("publish_error:fr", "disk full")
    store.record_publish("fr", 3)
    store.record_publish("fr", 4)  # twice at one moment: one sample
    assert store.states("publish") == {"publish:fr": ("4", T0)}
    assert store.backlog_history(T0) == [(T0, "fr", 0)]

    store.begin_publish("fr", T0)
    store.begin_publish("fr", T0 + timedelta(minutes=1))  # still the one that began first
    assert store.publish_begun("fr") == T0 and store.publish_begun("en") is None
    store.commit_publish("fr", {1: None, 2: 1, 3: None}, T0, "sig1", "cur1")
    assert store.publish_begun("fr") is None
    store.commit_publish("fr", {1: 2}, T0, "sig1", "cur1")
    assert store.feed_pages("fr", [1, 2, 3]) == {1: 2, 2: 1, 3: None}
    assert store.all_feed_pages("fr") == {1: 2, 2: 1, 3: None}
    assert store.last_page("fr") == (2, 1)
    clock.now += timedelta(minutes=1)
    store.commit_publish("fr", {}, clock.now, "sig2", "cur2")
    assert store.publish_mark("fr") == (clock.now, "sig2", "cur2")


def test_corrections_replace_their_record(store: Store) -> None:
    a = add(store, "a")
    tr = Translation(a, "fr", DONE, title="Revu", body_html="<p>b</p>", engine="human", source_hash="h-a",
                     reviewed=True)  # fmt: skip
    store.apply_correction(tr, "corrections/fr/newsroom/a.md", "f1")
    store.apply_correction(tr, "corrections/fr/newsroom/a.md", "f2")
    assert store.correction(a, "fr") == ("f2", "h-a")
    assert store.corrections() == [(a, "fr", "corrections/fr/newsroom/a.md", False)]
    store.drop_correction(a, "fr")
    assert store.correction(a, "fr") is None and store.pending("fr") == [(a, "fr")]


def test_history_by_day(store: Store, clock: Clock) -> None:
    a = add(store, "a")
    store.save_translation(Translation(a, "fr", DONE, title="T", body_html="<p>b</p>", updated=T0))
    assert store.articles_per_day(T0 - timedelta(days=1)) == {"2026-03-01": {"en": 1}}
    assert store.translations_per_day(T0 - timedelta(days=1)) == {"2026-03-01": {"fr": 1}}
    assert store.integrity_check() == "ok"
    with store.engine.connect() as conn:  # timestamps are kept in UTC without a zone on every database
        assert conn.execute(select(articles.c.first_seen)).scalar() == T0.replace(tzinfo=None)


def test_article_languages_are_read_without_the_articles_in_chunks(store: Store) -> None:
    """A backlog's plan reads only languages; more ids than one SQL statement may bind (500 a chunk)."""
    ids = [add(store, f"k{n}") for n in range(1203)]
    languages = store.article_languages([*ids, *ids[:3], 999_999])  # repeats and an unknown id
    assert languages == dict.fromkeys(ids, "en")


# -- media --------------------------------------------------------------------------------------------------------


def test_images_are_kept_once_by_their_bytes(store: Store) -> None:
    """Every byte value survives the database (bytea, BLOB); the same bytes stored twice are one row."""
    image = MediaFile(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 3, "png")
    assert store.save_media(image) == image.path
    assert store.save_media(MediaFile(image.data, "png")) == image.path
    other = MediaFile(b"GIF89a" + b"\x00\xff" * 10, "gif")
    store.save_media(other)
    assert store.media_names() == sorted([image.path, other.path])
    found = store.media_files([image.path, other.path, "media/" + "0" * 32 + ".png"])
    assert found == {image.path: image, other.path: other}
    assert found[image.path].data == image.data
