"""Incremental publishing of one language: current feed, RFC 5005 archive pages and entry pages.

Each language remembers (in the store) when its last successful publish started and a signature of
everything besides articles that shapes its bytes (settings, catalog, output format). A cycle then reads
only what changed since: the ids of changed articles (index ranges), the newest `max_entries` versions and
the members of the current feed. Entries pushed out of the current feed are filed, oldest first, into
numbered archive pages of `max_entries` entries; a page is rewritten while it fills and once more when the
next one opens (to link it), and never after: RFC 5005 lets clients cache archive pages forever. So one
new article costs the current feed, its own pages and at most two archive pages, whatever the store holds.

A changed signature (or `rebuild=True`) republishes everything: that is the only path that reads every
article.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from syndicator.models import Article, Translation
from syndicator.publish.entries import EntryBuilder, entry_path
from syndicator.publish.feeds import FeedChannel, FeedEntry, build_all
from syndicator.publish.pages import entry_page
from syndicator.store import Store

log = logging.getLogger(__name__)

ARCHIVE_DIR = "archive"
VersionList = Sequence[tuple[Article, Translation | None]]
Write = Callable[[str, bytes], bool]  # relpath, bytes -> whether the file changed (FeedWriter.write)
Keep = Callable[[Sequence[str]], bool]  # an article's tags -> whether it may appear in public documents


def _everything(tags: Sequence[str]) -> bool:
    return True


def _current_hash(top: VersionList) -> str:
    """What the current feed shows, as a hash: entries and the moments their content last changed."""
    parts = [
        f"{a.id}:{a.updated.isoformat()}:{t.updated.isoformat() if t and t.updated else ''}" for a, t in top
    ]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()


def archive_folder(language: str, page: int) -> str:
    """Folder of one archive page's rss.xml/atom.xml/feed.json under feeds/."""
    return f"{language}/{ARCHIVE_DIR}/{page}"


@dataclass
class LanguageOutcome:
    """What publishing one language did."""

    written: list[str] = field(default_factory=list)
    full: bool = False
    skipped: bool = False  # nothing changed: no document was even built
    pages_built: int = 0  # entry HTML pages rendered (written or found unchanged)
    archives_built: int = 0  # archive pages rendered


class LanguagePublisher:
    """Publishes one language's documents through a FeedWriter, doing only the work the changes need."""

    def __init__(
        self,
        store: Store,
        write: Write,
        builder: EntryBuilder,
        language: str,
        *,
        clock: Callable[[], datetime],
        keep: Keep = _everything,
        extra_signature: str = "",
    ) -> None:
        self.store = store
        self.write = write
        self.builder = builder
        self.language = language
        self.clock = clock
        self.keep = keep
        # Whatever else shapes the output (restricted tags, gzip copies): when it changes, all is rebuilt.
        self.extra_signature = extra_signature
        self.size = builder.config.publish.max_entries  # current feed length and archive page size
        self.outcome = LanguageOutcome()
        self._site_title = builder.site_title(language)
        self._label = builder.catalogs.gettext(language, "Latest news")
        # An empty feed is dated by the store's first article: plausible, and it never moves.
        self._channel = replace(builder.channel(language), empty_updated=store.started())

    def run(self, *, rebuild: bool = False) -> LanguageOutcome:
        """Publish what changed (everything when `rebuild` or when settings/catalog/format changed)."""
        started = self.clock()
        signature = hashlib.sha256(
            f"{self.builder.signature(self.language)}|{self.extra_signature}".encode()
        ).hexdigest()
        mark = self.store.publish_mark(self.language)
        top = self._top()
        shown = _current_hash(top)
        if rebuild or mark is None or mark[1] != signature:
            self.outcome.full = True
            self._full(top)
        else:
            self._incremental(mark[0], top, shown != mark[2])
        # Only after every write succeeded: a failed cycle is redone from the same mark.
        self.store.set_publish_mark(self.language, started, signature, shown)
        return self.outcome

    # -- the two paths -----------------------------------------------------------------------------------

    def _incremental(self, since: datetime, top: VersionList, top_moved: bool) -> None:
        lang = self.language
        changed = self.store.changed_since(since)
        top_ids = {a.id for a, _ in top}
        current = set(self.store.feed_pages(lang))
        left = current - top_ids
        if not changed and not left and not top_moved:
            self.outcome.skipped = True
            return
        placed = self.store.feed_pages(lang, changed | left | top_ids)
        readable = {a.id: (a, t) for a, t in self.store.versions_of(lang, changed | left)}
        last, count = self.store.last_page(lang)

        # Entries leaving the current feed, and changed ones never filed (an article dated in the past, a
        # late translation), are filed oldest first into the open archive page. Nothing is ever unfiled:
        # an entry that stops being readable is just left out of documents built later.
        unfiled = {i for i in readable if i not in placed} - top_ids
        to_archive = sorted(
            left | unfiled,
            key=lambda i: (
                (readable[i][0].published, i) if i in readable else (datetime.max.replace(tzinfo=UTC), i)
            ),
        )
        # An archived entry back among the newest N (one above it stopped being readable) stays filed.
        assignments: dict[int, int | None] = {i: None for i in top_ids if i not in placed}
        dirty_pages: set[int] = set()
        for i in to_archive:
            if last == 0 or count >= self.size:
                if last:
                    dirty_pages.add(last)  # gains its next-archive link, then stays as it is
                last, count = last + 1, 0
            assignments[i] = last
            dirty_pages.add(last)
            count += 1
        # A change inside the open page shows there; full pages are final (their entry pages still update).
        dirty_pages |= {p for i, p in placed.items() if p == last and i in changed}
        self.store.set_feed_pages(lang, assignments)

        self._entry_pages([v for i, v in readable.items() if i in changed])
        for page in sorted(dirty_pages):
            self._archive(page, last)
        self._current(top, last)

    def _full(self, top: VersionList) -> None:
        lang = self.language
        top_ids = {a.id for a, _ in top}
        ordered = self.store.readable_ids(lang)
        # Current members no longer readable are filed like any entry leaving the current feed.
        stale = sorted(set(self.store.feed_pages(lang)) - set(ordered) - top_ids)
        filed = self.store.feed_pages(lang, ordered)
        pages: dict[int, list[int]] = {}
        for i, p in filed.items():
            if p is not None:
                pages.setdefault(p, []).append(i)
        last, count = self.store.last_page(lang)  # counts entries no longer readable too: pages never move
        assignments: dict[int, int | None] = {i: None for i in top_ids if filed.get(i) is None}
        for i in [*ordered, *stale]:
            if i in top_ids or filed.get(i) is not None:
                continue
            if last == 0 or count >= self.size:
                last, count = last + 1, 0
            assignments[i] = last
            pages.setdefault(last, []).append(i)
            count += 1
        self.store.set_feed_pages(lang, assignments)
        for page in range(1, last + 1):
            versions = self.store.versions_of(lang, pages.get(page, []))
            self._entry_pages(versions)
            self._archive(page, last, versions)
        self._entry_pages([v for v in top if filed.get(v[0].id) is None])
        self._current(top, last)

    # -- documents ---------------------------------------------------------------------------------------

    def _top(self) -> VersionList:
        """The newest `size` public versions (restricted ones are filed like others, never shown)."""
        fetch = self.size
        while True:
            versions = self.store.versions(self.language, fetch)
            kept = [v for v in versions if self.keep(v[0].tags)]
            if len(kept) >= self.size or len(versions) < fetch:
                return kept[: self.size]
            fetch *= 2

    def _public(self, versions: VersionList) -> VersionList:
        return [v for v in versions if self.keep(v[0].tags)]

    def _entries(self, versions: VersionList) -> list[FeedEntry]:
        versions = self._public(versions)
        available = self.store.done_languages([a.id for a, _ in versions])
        languages = set(self.builder.config.languages.all)
        return [
            self.builder.localize(a, self.language, t, ({a.language} | available[a.id]) & languages).entry
            for a, t in versions
        ]

    def _entry_pages(self, versions: VersionList) -> None:
        versions = self._public(versions)
        for (article, _), entry in zip(versions, self._entries(versions), strict=True):
            page = entry_page(entry, self.language, self._site_title, self._label)
            self._write(entry_path(article, self.language), page)
            self.outcome.pages_built += 1

    def _archive(self, page: int, last: int, versions: VersionList | None = None) -> None:
        if versions is None:
            versions = self.store.versions_of(self.language, self.store.page_ids(self.language, page))
        channel = replace(
            self._channel,
            page=page,
            prev_page=page - 1,
            next_page=page + 1 if page < last else 0,
        )
        self._documents(archive_folder(self.language, page), channel, self._entries(versions))
        self.outcome.archives_built += 1

    def _current(self, top: VersionList, last: int) -> None:
        self._documents(self.language, replace(self._channel, prev_page=last), self._entries(top))

    def _documents(self, folder: str, channel: FeedChannel, entries: list[FeedEntry]) -> None:
        for name, data in build_all(channel, entries).items():
            self._write(f"{folder}/{name}", data)

    def _write(self, relpath: str, data: bytes) -> None:
        if self.write(relpath, data):
            self.outcome.written.append(relpath)


def publish_language(
    store: Store,
    write: Write,
    builder: EntryBuilder,
    language: str,
    *,
    clock: Callable[[], datetime],
    rebuild: bool = False,
    keep: Keep = _everything,
    extra_signature: str = "",
) -> LanguageOutcome:
    """Publish one language incrementally (or fully when `rebuild`) through `write`; return what was done."""
    publisher = LanguagePublisher(
        store, write, builder, language, clock=clock, keep=keep, extra_signature=extra_signature
    )
    return publisher.run(rebuild=rebuild)
