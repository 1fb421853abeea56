"""Incremental publishing of one language: current feed, RFC 5005 archive pages and entry pages.

Each language remembers (in the store) when its last successful publish started and a signature of
everything besides articles that shapes its bytes (settings, catalog, output format). A cycle then reads
only what changed since: the ids of changed articles (index ranges), the newest `max_entries` versions and
the members of the current feed. Entries pushed out of the current feed are filed, oldest first, into
numbered archive pages of `max_entries` entries; a page is rewritten while it fills, once more when the
next one opens (to link it), and after that only when an entry it holds changes (an edit, or an article
that leaves or rejoins public view): RFC 5005 lets clients cache archive pages. So one new article costs
the current feed, its own pages and at most two archive pages, whatever the store holds.

An article that is not public (a restricted category) is filed like any other but shown nowhere, and its
entry pages are deleted whenever the publisher meets it (when it changes, and on every full rebuild).

A changed signature (or `rebuild=True`) republishes everything: that is the only path that reads every
article.

A publish is a transaction: the plan (where entries are filed) is computed, every document is written,
and only then is the plan committed together with the mark, in one store transaction. A publish cut short
(a crash, a full disk) therefore leaves the store describing the documents as they were, plus a journal
row saying a publish was under way; the next publish redoes the same work from the same mark, rewrites the
open archive page and the current feed whatever it finds, and removes archive pages past the last one.
Every entry is in exactly one document: the current feed or one archive page (an archived entry that is
among the newest again stays in its page).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from syndicator.models import Article, Translation
from syndicator.publish.bodylinks import body_media
from syndicator.publish.empty import why_empty
from syndicator.publish.entries import EntryBuilder, Localized, entry_dates, entry_path
from syndicator.publish.feeds import FeedChannel, FeedEntry, build_all
from syndicator.publish.media import is_media_file
from syndicator.publish.pages import entry_page
from syndicator.publish.writer import FeedWriter
from syndicator.store import Store

log = logging.getLogger(__name__)

ARCHIVE_DIR = "archive"
VersionList = Sequence[tuple[Article, Translation | None]]
Write = Callable[[str, bytes], bool]  # relpath, bytes -> whether the file changed (FeedWriter.write)
Keep = Callable[[Article], bool]  # whether an article may appear in these documents (its tags, a takedown)
Delete = Callable[[str], bool]  # relpath -> whether a file was there (FeedWriter.delete)


def _not_withdrawn(article: Article) -> bool:
    return article.withdrawn_at is None  # a taken-down article leaves every document, whatever else is kept


def _keep_files(relpath: str) -> bool:
    return False


def _current_hash(top: VersionList, empty_reason: str = "") -> str:
    """What the current feed shows, as a hash: entries and their dates (see entries.entry_dates), or why
    there are none."""
    parts = [f"{a.id}:{':'.join(d.isoformat() for d in (a.updated, *entry_dates(a, t)))}" for a, t in top]
    if empty_reason:
        parts.append(f"empty:{empty_reason}")
    return hashlib.sha256("|".join(parts).encode()).hexdigest()


def archive_folder(language: str, page: int) -> str:
    """Folder of one archive page's rss.xml/atom.xml/feed.json under feeds/."""
    return f"{language}/{ARCHIVE_DIR}/{page}"


def archive_page_of(language: str, relpath: str) -> int | None:
    """The archive page number a relpath lies in ("fr/archive/3/rss.xml" → 3), else None."""
    head = f"{language}/{ARCHIVE_DIR}/"
    if not relpath.startswith(head):
        return None
    number = relpath[len(head) :].split("/", 1)[0]
    return int(number) if number.isdigit() else None


@dataclass
class Repairs:
    """Documents of one language to rewrite (or remove) whether or not their entries changed: what
    verification found wrong, or what a publish cut short may have left behind."""

    pages: set[int] = field(default_factory=set)  # archive pages
    current: bool = False  # the current feed
    entries: set[int] = field(default_factory=set)  # articles to republish: entry page, and filing if missing
    remove: set[str] = field(default_factory=set)  # relpaths of files that must not exist
    strays: bool = False  # remove every archive page past the last one
    rebuild: bool = False  # the language's tree is gone: republish all of it

    def __bool__(self) -> bool:
        return bool(self.pages or self.current or self.entries or self.remove or self.strays or self.rebuild)

    def merge(self, other: Repairs) -> None:
        """Add what another finding asks for."""
        self.pages |= other.pages
        self.current |= other.current
        self.entries |= other.entries
        self.remove |= other.remove
        self.strays |= other.strays
        self.rebuild |= other.rebuild


@dataclass
class LanguageOutcome:
    """What publishing one language did."""

    written: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)  # archive pages and files repairs removed
    deleted: list[str] = field(default_factory=list)  # entry pages of articles that left public view
    full: bool = False
    skipped: bool = False  # nothing changed: no document was even built
    resumed: bool = False  # a publish cut short was found and redone
    pages_built: int = 0  # entry HTML pages rendered (written or found unchanged)
    archives_built: int = 0  # archive pages rendered


@dataclass
class _Plan:
    """What one publish will write, and the filing it commits once everything is written."""

    assignments: dict[int, int | None]  # article id -> None (current feed) or archive page
    last: int  # the newest archive page after this publish (0: none)
    pages: set[int]  # archive pages to build
    entries: VersionList  # versions whose entry pages to build
    current: VersionList  # what the current feed shows
    members: dict[int, list[int]] | None = None  # archive page -> ids, when already known (full path)


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
        keep: Keep = _not_withdrawn,
        extra_signature: str = "",
        tree: FeedWriter | None = None,
        delete: Delete = _keep_files,
    ) -> None:
        self.store = store
        self.write = write
        # The published files, for what the publisher must look at or remove: archive pages an
        # interrupted publish left past the last one, and what a start-up check finds missing.
        self.tree = tree
        # Entry pages of articles that are not public (restricted) are deleted whenever they are looked at.
        self.delete = delete
        self.builder = builder
        self.language = language
        self.clock = clock
        self.keep = keep
        # Whatever else shapes the output (restricted tags, gzip copies): when it changes, all is rebuilt.
        self.extra_signature = extra_signature
        self.size = builder.config.publish.max_entries  # current feed length and archive page size
        self.outcome = LanguageOutcome()
        self._built: set[str] = set()  # every document this publish wrote or found unchanged
        self._site_title = builder.site_title(language)
        self._label = builder.catalogs.gettext(language, "Latest news")
        self._home_label = builder.catalogs.gettext(language, "All languages")  # the landing page
        self._feeds_url = builder.config.site.feeds_url
        # An empty feed is dated by the store's first article: plausible, and it never moves.
        self._channel = replace(builder.channel(language), empty_updated=store.started())
        self._empty_reason = ""  # the msgid saying why the current feed is empty (publish/empty.py)

    def run(self, *, rebuild: bool = False, repairs: Repairs | None = None) -> LanguageOutcome:
        """Publish what changed (everything when `rebuild` or when settings/catalog/format changed), and
        rewrite or remove what `repairs` names (syndicator/publish/audit.py finds those)."""
        lang = self.language
        started = self.clock()
        signature = hashlib.sha256(
            f"{self.builder.signature(lang)}|{self.extra_signature}".encode()
        ).hexdigest()
        mark = self.store.publish_mark(lang)
        todo = Repairs()
        if repairs is not None:
            todo.merge(repairs)
        if self.store.publish_begun(lang) is not None:
            # Cut short: the open page and the current feed may hold entries the store does not file there,
            # and pages past the last may exist. Redo them whatever the plan says.
            log.info("%s: redoing a publish that was cut short", lang)
            self.outcome.resumed = True
            todo.merge(Repairs(pages={self.store.last_page(lang)[0]} - {0}, current=True, strays=True))
        top = self._top()
        # An empty feed says why (publish/empty.py); when the reason changes, the feed is rewritten.
        self._empty_reason = "" if top else why_empty(self.store, self.builder.config, lang)
        shown = _current_hash(top, self._empty_reason)
        plan: _Plan | None
        if rebuild or todo.rebuild or mark is None or mark[1] != signature:
            self.outcome.full = True
            plan = self._full(top)
        else:
            plan = self._incremental(mark[0], top, shown != mark[2], todo)
        if plan is None:
            self.outcome.skipped = True
        else:
            self.store.begin_publish(lang, started)
            self._write_plan(plan, todo)
        # Only after every write succeeded, and in one transaction: a failed publish is redone from the
        # same mark, and the store never files an entry in a document that was not written.
        self.store.commit_publish(lang, plan.assignments if plan else {}, started, signature, shown)
        return self.outcome

    # -- the two plans -----------------------------------------------------------------------------------

    def _incremental(self, since: datetime, top: VersionList, top_moved: bool, todo: Repairs) -> _Plan | None:
        lang = self.language
        changed = self.store.changed_since(since) | todo.entries
        top_ids = {a.id for a, _ in top}
        current = set(self.store.feed_pages(lang))
        left = current - top_ids
        if not changed and not left and not top_moved and not todo:
            return None
        placed = self.store.feed_pages(lang, changed | left | top_ids)
        readable = {a.id: (a, t) for a, t in self.store.versions_of(lang, changed | left)}
        last, count = self.store.last_page(lang)

        # Entries leaving the current feed, and changed ones never filed (an article dated in the past, a
        # late translation), are filed oldest first into the open archive page. Nothing is ever unfiled.
        # Restricted entries are not filed at all: made public again, they are placed like new ones.
        unfiled = {i for i, (a, _) in readable.items() if i not in placed and self.keep(a)} - top_ids
        to_archive = sorted(
            left | unfiled,
            key=lambda i: (
                (readable[i][0].published, i) if i in readable else (datetime.max.replace(tzinfo=UTC), i)
            ),
        )
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
        # A changed entry is rebuilt in whichever page holds it: an edit shows in archives too, and an article
        # that became restricted (or public again) leaves (or rejoins) its archive page.
        dirty_pages |= {p for i, p in placed.items() if p is not None and i in changed}
        dirty_pages |= {p for p in todo.pages if 1 <= p <= last}
        # An archived entry that is among the newest again (it was re-dated) stays in its page only.
        archived = {i for i in top_ids if placed.get(i) is not None}
        return _Plan(
            assignments=assignments,
            last=last,
            pages=dirty_pages,
            entries=[v for i, v in readable.items() if i in changed],
            current=[v for v in top if v[0].id not in archived],
        )

    def _full(self, top: VersionList) -> _Plan:
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
        # Never filed and restricted: left unfiled (see _incremental).
        candidates = [i for i in ordered if i not in top_ids and i not in filed]
        hidden = {a.id for a, _ in self.store.versions_of(lang, candidates) if not self.keep(a)}
        for i in [*ordered, *stale]:
            if i in top_ids or filed.get(i) is not None or i in hidden:
                continue
            if last == 0 or count >= self.size:
                last, count = last + 1, 0
            assignments[i] = last
            pages.setdefault(last, []).append(i)
            count += 1
        return _Plan(
            assignments=assignments,
            last=last,
            pages=set(range(1, last + 1)),
            entries=[v for v in top if filed.get(v[0].id) is None],
            current=[v for v in top if filed.get(v[0].id) is None],
            members=pages,
        )

    def _write_plan(self, plan: _Plan, todo: Repairs) -> None:
        """Entry pages, then archive pages oldest first, then the current feed: a document is written only
        after the documents it links to."""
        lang = self.language
        if plan.members is None:
            self._entry_pages(plan.entries)
        for page in sorted(plan.pages):
            ids = self._members(page, plan)
            versions = self.store.versions_of(lang, ids)
            if plan.members is not None:
                self._entry_pages(versions)
            self._archive(page, plan.last, versions)
        if plan.members is not None:
            self._entry_pages(plan.entries)
        self._current(plan.current, plan.last)
        if todo.strays and self.tree is not None:
            todo.remove |= {
                rel
                for rel in self.tree.list(f"{lang}/{ARCHIVE_DIR}/")
                if (archive_page_of(lang, rel) or 0) > plan.last
            }
        for relpath in sorted(todo.remove):
            self._remove(relpath)

    def _members(self, page: int, plan: _Plan) -> list[int]:
        if plan.members is not None:
            return plan.members.get(page, [])
        # Filed before (the store), plus filed by this plan: nothing ever leaves a page.
        added = [i for i, p in plan.assignments.items() if p == page]
        return [*self.store.page_ids(self.language, page), *added]

    def _remove(self, relpath: str) -> None:
        if self.tree is None:
            return
        for rel in (relpath, f"{relpath}.gz"):
            if rel.removesuffix(".gz") in self._built:
                continue  # found missing or wrong, and just written whole: it stays
            if self.tree.delete(rel):
                self.outcome.removed.append(rel)
                log.info("removed %s", rel)

    # -- documents ---------------------------------------------------------------------------------------

    def _top(self) -> VersionList:
        """The newest `size` public versions (restricted ones are filed like others, never shown)."""
        fetch = self.size
        while True:
            versions = self.store.versions(self.language, fetch)
            kept = [v for v in versions if self.keep(v[0])]
            if len(kept) >= self.size or len(versions) < fetch:
                return kept[: self.size]
            fetch *= 2

    def _public(self, versions: VersionList) -> VersionList:
        return [v for v in versions if self.keep(v[0])]

    def _localized(self, versions: VersionList) -> list[Localized]:
        versions = self._public(versions)
        available = self.store.done_languages([a.id for a, _ in versions])
        languages = set(self.builder.config.languages.all)
        return [
            self.builder.localize(a, self.language, t, ({a.language} | available[a.id]) & languages)
            for a, t in versions
        ]

    def _entries(self, versions: VersionList) -> list[FeedEntry]:
        return [item.entry for item in self._localized(versions)]

    def _entry_pages(self, versions: VersionList) -> None:
        for article, _ in versions:
            if not self.keep(article):  # out of public view: its page must not stay behind
                relpath = entry_path(article, self.language)
                if self.delete(relpath):
                    self.outcome.deleted.append(relpath)
        # Public entries' files only: a restricted entry's never reach feeds/ (partner feeds serve them under
        # the partner's URL, serve/partner_feeds.py). Before the pages that show them.
        versions = self._public(versions)
        self._media(versions)
        for (article, _), item in zip(versions, self._localized(versions), strict=True):
            relpath = entry_path(article, self.language)
            page = entry_page(
                item.entry,
                item.page_html,
                relpath,
                self._site_title,
                self._label,
                self._home_label,
                self._feeds_url,
            )
            self._write(relpath, page)
            self.outcome.pages_built += 1

    def _media(self, versions: VersionList) -> None:
        """Publish the images these entries show that Syndicator holds (media/<hash>.<ext>). Written with
        the entry pages, so a repaired or rebuilt page brings its image back; content-addressed, so an
        unchanged one is skipped by the writer. Images are never removed: archived entries and other
        languages' pages may still show one after its article changed image (see docs/feeds.md)."""
        names = {a.image for a, _ in versions if is_media_file(a.image)}
        # And the files their bodies link (sources/bodyfiles.py), in the original and the translation alike.
        names |= body_media(text.body_html for a, t in versions for text in (a, t) if text is not None)
        names -= self._built
        if not names:
            return
        found = self.store.media_files(names)
        for name in sorted(names):
            if name in found:
                self._write(name, found[name].data)
            else:  # the store lost it (a copy made without the media table): the page links a missing file
                log.warning("%s: the store holds no image %s; its entries show none", self.language, name)

    def _archive(self, page: int, last: int, versions: VersionList) -> None:
        channel = replace(
            self._channel,
            page=page,
            prev_page=page - 1,
            next_page=page + 1 if page < last else 0,
        )
        self._documents(archive_folder(self.language, page), channel, self._entries(versions))
        self.outcome.archives_built += 1

    def _current(self, top: VersionList, last: int) -> None:
        channel = replace(self._channel, prev_page=last)
        if self._empty_reason:
            channel = self.builder.explain_empty(channel, self._empty_reason)
        self._documents(self.language, channel, self._entries(top))

    def _documents(self, folder: str, channel: FeedChannel, entries: list[FeedEntry]) -> None:
        for name, data in build_all(channel, entries).items():
            self._write(f"{folder}/{name}", data)

    def _write(self, relpath: str, data: bytes) -> None:
        self._built.add(relpath)
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
    keep: Keep = _not_withdrawn,
    extra_signature: str = "",
    tree: FeedWriter | None = None,
    repairs: Repairs | None = None,
    delete: Delete = _keep_files,
) -> LanguageOutcome:
    """Publish one language incrementally (or fully when `rebuild`) through `write`, rewriting or removing
    what `repairs` names; return what was done.

    `delete` removes the entry pages of articles `keep` refuses (pass the FeedWriter's delete)."""
    publisher = LanguagePublisher(
        store,
        write,
        builder,
        language,
        clock=clock,
        keep=keep,
        extra_signature=extra_signature,
        tree=tree,
        delete=delete,
    )
    return publisher.run(rebuild=rebuild, repairs=repairs)
