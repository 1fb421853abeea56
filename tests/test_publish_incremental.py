"""Incremental publishing and RFC 5005 archives, on a real SQLite store with a controlled clock.

Articles go straight into the store (translations marked done), so each test controls exactly what
changed between two publishes. Work is asserted as counts of documents built, never as time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import feedparser
import pytest

from syndicator.config import Config, load_config
from syndicator.localize import Catalogs
from syndicator.models import DONE, ArticleInput, Translation
from syndicator.pipeline import content_hash
from syndicator.publish import MemoryFeedWriter
from syndicator.publish.entries import EntryBuilder
from syndicator.publish.publisher import LanguageOutcome, publish_language
from syndicator.store import Store
from tests.conftest import REPO, write_config

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
        self, n: int, body: str = "", published: datetime | None = None, tags: tuple[str, ...] = ()
    ) -> int:
        """Store article number n (published n hours after T0) and its done French translation."""
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
        self.store.save_translation(
            Translation(
                article_id,
                "fr",
                DONE,
                f"[fr] Article {n}",
                "",
                f"<p>[fr] Body {n}. {body}</p>",
                engine="pseudo",
                updated=self.clock(),
            )
        )
        return article_id

    def publish(
        self, *, rebuild: bool = False, writer: MemoryFeedWriter | None = None, hide: str = ""
    ) -> dict[str, LanguageOutcome]:
        """Publish every language; return what each did."""
        self.clock.tick()
        builder = EntryBuilder(self.config, Catalogs(REPO / "locales"))
        return {
            lang: publish_language(
                self.store,
                (writer or self.writer).write,
                builder,
                lang,
                clock=self.clock,
                rebuild=rebuild,
                keep=lambda tags: not hide or hide not in tags,
                extra_signature=hide,
            )
            for lang in self.config.languages.all
        }

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
