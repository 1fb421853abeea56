"""Incremental publishing and RFC 5005 archives, on a real SQLite store with a controlled clock.

Articles go straight into the store (translations marked done), so each test controls exactly what
changed between two publishes. Work is asserted as counts of documents built, never as time.
"""

from __future__ import annotations

import errno
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import feedparser
import pytest

from syndicator.config import Config, load_config
from syndicator.localize import Catalogs
from syndicator.models import DONE, PENDING, ArticleInput, Translation
from syndicator.pipeline import content_hash
from syndicator.publish import MemoryFeedWriter
from syndicator.publish.audit import audit_language
from syndicator.publish.entries import EntryBuilder
from syndicator.publish.pages import STYLESHEET
from syndicator.publish.publisher import LanguageOutcome, publish_language
from syndicator.publish.site import INDEX_FILE, stylesheet
from syndicator.store import Store
from tests.conftest import REPO, write_config
from tests.support.published import history, keys

SIZE = 3  # publish.max_entries: current feed length and archive page size
T0 = datetime(2026, 3, 10, tzinfo=UTC)


@dataclass
class Clock:
    """A clock the test moves forward by hand."""

    now: datetime = T0

    def __call__(self) -> datetime:
        return self.now

    def tick(self) -> None:
        self.now += timedelta(minutes=1)


class Newsroom:
    """A store, a config and an in-memory feed writer; adds articles and publishes."""

    def __init__(self, tmp_path: Path, size: int = SIZE, title: str = "Newsroom") -> None:
        write_config(tmp_path, targets=("fr",), engine="pseudo", extra=f"\n[publish]\nmax_entries = {size}\n")
        (tmp_path / "articles").mkdir(exist_ok=True)
        self.root = tmp_path
        self.clock = Clock()
        self.store = Store(f"sqlite:///{tmp_path / 'store.db'}", clock=self.clock)
        self.writer = MemoryFeedWriter()
        self.config = self._config(title)

    def _config(self, title: str) -> Config:
        return load_config(self.root / "config" / "syndicator.toml", overrides={"site.title": title})

    def retitle(self, title: str) -> None:
        self.config = self._config(title)

    def add(
        self,
        n: int,
        body: str = "",
        published: datetime | None = None,
        tags: tuple[str, ...] = (),
        translate: bool = True,
    ) -> int:
        """Store article number n (published n hours after T0) and its done French translation (left
        pending when not `translate`: the last good translation, if any, stays)."""
        self.clock.tick()
        item = ArticleInput(
            source="newsroom",
            key=f"a{n:04d}",
            language="en",
            title=f"Article {n}",
            body_html=f"<p>Body {n}. {body}</p>",
            published=published or T0 + timedelta(hours=n),
            tags=tags,
        )
        article_id, _state = self.store.upsert_article(item, content_hash(item))
        self.store.ensure_pending(self.store.article(article_id), ["fr"])
        if not translate:
            return article_id
        self.store.save_translation(
            Translation(
                article_id,
                "fr",
                DONE,
                f"[fr] Article {n}",
                "",
                f"<p>[fr] Body {n}. {body}</p>",
                engine="pseudo",
                source_hash=content_hash(item),
                updated=self.clock(),
            )
        )
        return article_id

    def publish(
        self,
        *,
        rebuild: bool = False,
        writer: MemoryFeedWriter | None = None,
        hide: str = "",
        write: Callable[[str, bytes], bool] | None = None,
    ) -> dict[str, LanguageOutcome]:
        """Publish every language; return what each did."""
        self.clock.tick()
        tree = writer or self.writer
        tree.write(STYLESHEET, stylesheet())  # root documents the pipeline writes; entry pages link them
        tree.write(INDEX_FILE, b"<!DOCTYPE html>\n<title>landing page</title>\n")
        return {
            lang: publish_language(
                self.store,
                write or tree.write,
                self.builder(),
                lang,
                clock=self.clock,
                rebuild=rebuild,
                keep=lambda article: not hide or hide not in article.tags,
                extra_signature=hide,
                tree=tree,
            )
            for lang in self.config.languages.all
        }

    def builder(self) -> EntryBuilder:
        return EntryBuilder(self.config, Catalogs(REPO / "locales"))

    def once_each(self, n: int) -> None:
        """Every language's documents hold articles 0..n-1 once each, and the verifier agrees."""
        for lang in self.config.languages.all:
            assert keys(history(self.writer.read, lang)) == [f"a{i:04d}" for i in range(n)], lang
            audit = audit_language(self.store, self.writer, self.builder(), lang, lambda article: True)
            assert audit.findings == [], audit.findings

    def feed(self, relpath: str) -> feedparser.FeedParserDict:
        data = self.writer.read(relpath)
        assert data is not None, relpath
        return feedparser.parse(data)


@pytest.fixture
def newsroom(tmp_path: Path) -> Newsroom:
    return Newsroom(tmp_path)


def _archive_files(writer: MemoryFeedWriter, lang: str) -> dict[str, bytes]:
    return {p: b for p, b in writer.files.items() if p.startswith(f"{lang}/archive/")}


def test_first_publish_is_full_then_nothing_changed_builds_nothing(newsroom: Newsroom) -> None:
    for n in range(10):
        newsroom.add(n)
    first = newsroom.publish()
    assert all(o.full and o.pages_built == 10 for o in first.values())
    again = newsroom.publish()
    assert all(o.skipped and not o.written and o.pages_built == 0 for o in again.values())


def test_one_new_article_costs_its_page_the_feed_and_at_most_two_archive_pages(tmp_path: Path) -> None:
    newsroom = Newsroom(tmp_path, size=5)
    for n in range(60):
        newsroom.add(n)
    newsroom.publish()
    for n in range(60, 75):  # every roll-over point of the pages is crossed
        newsroom.add(n)
        for lang, outcome in newsroom.publish().items():
            assert not outcome.full
            assert outcome.pages_built == 1  # only the new article's own page
            assert 1 <= outcome.archives_built <= 2  # the open page, and the one it closes
            written = set(outcome.written)
            assert f"{lang}/newsroom/a{n:04d}.html" in written
            assert {p for p in written if "/archive/" not in p and p.endswith((".xml", ".json"))} == {
                f"{lang}/rss.xml",
                f"{lang}/atom.xml",
                f"{lang}/feed.json",
            }


def test_full_archive_pages_never_change_again(newsroom: Newsroom) -> None:
    sealed: dict[str, bytes] = {}
    for n in range(20):
        newsroom.add(n)
        outcome = newsroom.publish()
        files = _archive_files(newsroom.writer, "fr")
        # Once page k+1 exists, page k is final.
        for path in outcome["fr"].written:
            assert path not in sealed, f"{path} changed after it was full"
        pages = {int(p.split("/")[2]) for p in files}
        for path, data in files.items():
            if int(path.split("/")[2]) < max(pages, default=0):
                sealed.setdefault(path, data)
    assert sealed and all(newsroom.writer.files[p] == b for p, b in sealed.items())


def test_prev_archive_links_reach_every_entry_once(newsroom: Newsroom) -> None:
    for n in range(11):
        newsroom.add(n)
        newsroom.publish()
    for name in ("atom.xml", "rss.xml"):
        seen: list[str] = []
        doc = newsroom.feed(f"fr/{name}")
        assert len(doc.entries) == SIZE
        while True:
            seen += [e.id for e in doc.entries]
            prev = [link.href for link in doc.feed.links if link.rel == "prev-archive"]
            if not prev:
                break
            doc = newsroom.feed(prev[0].removeprefix("https://news.example.org/feeds/"))
            assert not doc.bozo
        assert sorted(seen) == sorted(
            f"https://news.example.org/feeds/fr/newsroom/a{n:04d}.html" for n in range(11)
        )


def test_incremental_result_equals_a_full_rebuild(newsroom: Newsroom) -> None:
    for n in range(8):
        newsroom.add(n)
        newsroom.publish()
    newsroom.add(100, published=T0 - timedelta(days=30))  # dated long ago: straight into the archive
    newsroom.publish()
    newsroom.add(7, body="Corrected.")  # a correction inside the current feed
    newsroom.publish()
    fresh = MemoryFeedWriter()
    rebuilt = newsroom.publish(rebuild=True, writer=fresh)
    assert all(o.full for o in rebuilt.values())
    assert fresh.files == newsroom.writer.files


def test_a_correction_is_an_update_in_every_language(newsroom: Newsroom) -> None:
    for n in range(2):
        newsroom.add(n)
    newsroom.publish()
    before = {lang: newsroom.feed(f"{lang}/atom.xml").entries for lang in ("en", "fr")}
    newsroom.clock.now += timedelta(days=1)  # after its publication: an edit made before it is no update
    newsroom.add(1, body="Corrected.")
    outcome = newsroom.publish()
    assert {o.pages_built for o in outcome.values()} == {1}
    for lang, note in (("en", "Updated"), ("fr", "Mis à jour")):
        entry = next(e for e in newsroom.feed(f"{lang}/atom.xml").entries if e.id.endswith("a0001.html"))
        assert note in entry.content[0].value and "Corrected." in entry.content[0].value
        old = {e.id: e for e in before[lang]}
        assert entry.updated_parsed > old[entry.id].updated_parsed
        other = next(e for e in newsroom.feed(f"{lang}/atom.xml").entries if e.id.endswith("a0000.html"))
        assert note not in other.content[0].value
        assert other.updated == old[other.id].updated  # untouched entries keep their date


def test_changed_settings_republish_everything(newsroom: Newsroom) -> None:
    for n in range(7):
        newsroom.add(n)
    newsroom.publish()
    newsroom.retitle("Harbour News")
    outcome = newsroom.publish()
    assert all(o.full and o.pages_built == 7 for o in outcome.values())
    assert newsroom.feed("en/archive/1/atom.xml").feed.title == "Harbour News"


def test_a_failed_publish_is_redone_next_cycle(newsroom: Newsroom, monkeypatch: pytest.MonkeyPatch) -> None:
    newsroom.add(0)
    newsroom.publish()
    newsroom.add(1)

    def full_disk(relpath: str, data: bytes) -> bool:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(newsroom.writer, "write", full_disk)
    with pytest.raises(OSError):
        newsroom.publish()
    monkeypatch.undo()
    outcome = newsroom.publish()
    assert "fr/newsroom/a0001.html" in outcome["fr"].written


def test_restricted_entries_reach_no_public_document(newsroom: Newsroom) -> None:
    for n in range(10):
        newsroom.add(n, tags=("partners-only",) if n % 3 == 0 else ("news",))
        newsroom.publish(hide="partners-only")
    hidden = {f"a{n:04d}" for n in range(10) if n % 3 == 0}
    for path, data in newsroom.writer.files.items():
        assert not any(key in path for key in hidden), path
        assert not any(key.encode() in data for key in hidden), path
    assert len(newsroom.feed("fr/atom.xml").entries) == SIZE
    newsroom.publish()  # nothing restricted any more: everything is republished, now with them
    assert any("a0009" in e.id for e in newsroom.feed("fr/atom.xml").entries)


def _failing_at(writer: MemoryFeedWriter, n: int) -> Callable[[str, bytes], bool]:
    """writer.write, but its n-th call (1-based) fails as on a full disk."""
    calls = 0

    def write(relpath: str, data: bytes) -> bool:
        nonlocal calls
        calls += 1
        if calls == n:
            raise OSError(errno.ENOSPC, "No space left on device", relpath)
        return writer.write(relpath, data)

    return write


def _step(room: Newsroom) -> None:
    """Four new articles, one of them dated before everything (filed straight into the open page)."""
    for n in range(8, 11):
        room.add(n)
    room.add(11, published=T0 - timedelta(days=1))


def test_a_publish_cut_short_at_any_write_is_finished_by_the_next(tmp_path: Path) -> None:
    # How many writes one publish of the step makes, then a run that fails at each of them in turn.
    probe = Newsroom(tmp_path / "probe")
    for n in range(8):
        probe.add(n)
    probe.publish()
    _step(probe)
    calls: list[str] = []
    probe.publish(write=lambda relpath, data: calls.append(relpath) or probe.writer.write(relpath, data))
    assert any("/archive/" in c for c in calls)
    for n in range(1, len(calls) + 1):
        room = Newsroom(tmp_path / f"fail-{n}")
        for i in range(8):
            room.add(i)
        room.publish()
        _step(room)
        with pytest.raises(OSError):
            room.publish(write=_failing_at(room.writer, n))
        outcome = room.publish()
        assert all(o.resumed for lang, o in outcome.items() if lang == calls[n - 1].split("/")[0]), n
        room.once_each(12)


def test_pages_past_the_last_left_by_a_publish_cut_short_are_removed(newsroom: Newsroom) -> None:
    for n in range(8):
        newsroom.add(n)
    newsroom.publish()
    # What a crash leaves when the next run files less: a page the store does not know, and the journal.
    newsroom.writer.write("fr/archive/9/rss.xml", b"<rss/>")
    newsroom.store.begin_publish("fr", newsroom.clock())
    outcome = newsroom.publish()
    assert outcome["fr"].resumed and outcome["fr"].removed == ["fr/archive/9/rss.xml"]
    assert newsroom.store.publish_begun("fr") is None
    newsroom.once_each(8)


def test_an_entry_being_retranslated_keeps_its_place_and_last_good_text(newsroom: Newsroom) -> None:
    for n in range(6):
        newsroom.add(n)
    newsroom.publish()
    updated = newsroom.add(5, body="Corrected.", translate=False)  # in the current feed; French redone later
    for n in range(6, 9):
        newsroom.add(n)  # pushes it out of the current feed while it waits
    newsroom.publish()
    newsroom.once_each(9)
    assert newsroom.store.translations_for([updated], "fr")[updated].status == PENDING
    newsroom.add(5, body="Corrected.")  # the new French arrives
    newsroom.publish()
    newsroom.once_each(9)


def test_an_archived_entry_dated_anew_stays_in_its_page_only(newsroom: Newsroom) -> None:
    for n in range(8):
        newsroom.add(n)
        newsroom.publish()
    newsroom.add(0, published=T0 + timedelta(days=30))  # now the newest of all
    newsroom.publish()
    newsroom.once_each(8)
