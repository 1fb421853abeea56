"""Articles: storing them once, reading them back."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, NamedTuple

from sqlalchemy import and_, func, or_, select, update

from syndicator.errors import StoreError
from syndicator.models import Article, ArticleInput
from syndicator.store.base import StoreBase
from syndicator.store.schema import HAS_CANONICAL, articles, aware_utc, bounded_key, clean_text, naive_utc


class Stored(NamedTuple):
    """What storing an article did."""

    id: int
    outcome: str  # "new" | "updated" | "unchanged" | "duplicate"
    # An edit declared a modification time before this one, already stored (and published): it was dated when
    # the store saw it instead (see store_article).
    kept: datetime | None = None


class ArticlesMixin(StoreBase):
    """Articles: storing them once, reading them back."""

    # -- articles ---------------------------------------------------------------------------------------

    def upsert_article(self, item: ArticleInput, content_hash: str, canonical: str = "") -> tuple[int, str]:
        """Store an article once; return (id, "new" | "updated" | "unchanged" | "duplicate")."""
        stored = self.store_article(item, content_hash, canonical)
        return stored.id, stored.outcome

    def store_article(self, item: ArticleInput, content_hash: str, canonical: str = "") -> Stored:
        """Store an article once: its id, "new" | "updated" | "unchanged" | "duplicate", and the later
        modification time it already had when the source declared an earlier one for an edit.

        "duplicate": another (source, key) already stored this canonical URL; the first one keeps it. Safe
        with concurrent writers on any database: the unique (source, key) and canonical-URL indexes decide
        who stored it first (INSERT … ON CONFLICT DO NOTHING), not a lock or a read before the write.

        An entry's `updated` never goes back: feed readers keep the newest they saw and could skip an edit
        dated before it. An edit that declares an earlier time (a front matter `updated:` older than the last
        edit, an upstream whose date went back) is dated when the store saw it instead, as an edit that
        declares none, and the caller is told (`Stored.kept`) so it can say so.
        """
        clock = self.clock()
        now = naive_utc(clock)
        canonical = bounded_key(clean_text(canonical)) if canonical else ""
        values = {
            "language": item.language,
            "title": clean_text(item.title),
            "summary": clean_text(item.summary),
            "body_html": clean_text(item.body_html),
            "author": clean_text(item.author),
            "tags": clean_text(json.dumps(list(item.tags), ensure_ascii=False)),
            "image": clean_text(item.image),
            "url": clean_text(item.url),
            "origin": clean_text(item.origin),
            "published": naive_utc(item.published),
            "content_hash": content_hash,
        }
        # An article stored by an earlier version under another key is found by the key of its id as written.
        same_key = and_(
            articles.c.source == item.source,
            or_(articles.c.key == item.key, articles.c.upstream_key == item.key),
        )
        find = (
            select(articles.c.id, articles.c.content_hash, articles.c.modified)
            .where(same_key)
            .order_by(articles.c.id)
        )
        with self._tx() as conn:
            for _ in range(2):
                row = conn.execute(find).first()
                if row is None and self._adopt_alias(conn, item):
                    row = conn.execute(find).first()
                if row is not None:
                    if row.content_hash == content_hash:
                        return Stored(int(row.id), "unchanged")
                    changed = modified(item, clock, edited=True)
                    before = aware_utc(row.modified) if row.modified is not None else None
                    kept = (
                        before
                        if item.modified is not None and before is not None and changed < before
                        else None
                    )
                    if kept is not None:
                        changed = modified(replace(item, modified=None), clock, edited=True)
                    conn.execute(
                        update(articles)
                        .where(articles.c.id == row.id)
                        .values(updated=now, modified=naive_utc(changed), **values)
                    )
                    return Stored(int(row.id), "updated", kept)
                fresh = dict(
                    source=item.source, key=item.key, first_seen=now, updated=now, canonical_url=canonical,
                    modified=naive_utc(modified(item, clock, edited=False)),
                )  # fmt: skip
                inserted = conn.execute(
                    self._insert(articles)
                    .values(**fresh, **values)
                    .on_conflict_do_nothing()
                    .returning(articles.c.id)
                ).scalar()
                if inserted is not None:
                    return Stored(int(inserted), "new")
                # A conflict: the same URL through another source, or this (source, key) committed by another
                # writer since the read above (the insert waited for it): read again and decide.
                if canonical:
                    twin = conn.execute(
                        select(articles.c.id).where(
                            and_(HAS_CANONICAL, articles.c.canonical_url == canonical)
                        )
                    ).scalar()
                    if (
                        twin is not None
                        and conn.execute(select(articles.c.id).where(same_key)).first() is None
                    ):
                        return Stored(int(twin), "duplicate")
        raise StoreError(
            f"could not store {item.source}/{item.key}: it conflicts with a row that is not there"
        )

    def _adopt_alias(self, conn: Any, item: ArticleInput) -> bool:
        """Nothing is stored under `item.key`: let the article stored under one of `item.aliases` (a key an
        earlier version made), if any, be found by `item.key` from now on. Its own key stays: it names its
        pages. Whether one was found."""
        for alias in item.aliases:
            found = and_(
                articles.c.source == item.source, articles.c.key == alias, articles.c.upstream_key == ""
            )
            if conn.execute(update(articles).where(found).values(upstream_key=item.key)).rowcount:
                return True
        return False

    def published_of(self, source: str, key: str, aliases: Iterable[str] = ()) -> datetime | None:
        """The stored publication date of (source, key) (or of an alias of it), None when it is not stored."""
        keys = [key, *aliases]
        query = select(articles.c.key, articles.c.upstream_key, articles.c.published).where(
            and_(articles.c.source == source, or_(articles.c.key.in_(keys), articles.c.upstream_key == key))
        )
        with self.engine.connect() as conn:
            found = {}
            for row in conn.execute(query):
                found[row.key] = found[row.upstream_key or row.key] = row.published
        return next((aware_utc(found[k]) for k in keys if k in found), None)

    def article(self, article_id: int) -> Article:
        """One stored article."""
        with self.engine.connect() as conn:
            row = conn.execute(select(articles).where(articles.c.id == article_id)).first()
        if row is None:
            raise StoreError(f"no article with id {article_id}")
        return self._article(row)

    def articles(self, ids: Iterable[int] | None = None) -> list[Article]:
        """Stored articles (all, or those ids), newest first."""
        query = select(articles).order_by(articles.c.published.desc(), articles.c.id.desc())
        if ids is not None:
            query = query.where(articles.c.id.in_(list(ids)))
        with self.engine.connect() as conn:
            return [self._article(r) for r in conn.execute(query)]

    def article_languages(self, ids: Iterable[int]) -> dict[int, str]:
        """The language of each of these articles, without loading them (a backlog's plan needs only that)."""
        unique = list(dict.fromkeys(ids))
        found: dict[int, str] = {}
        with self.engine.connect() as conn:
            for start in range(0, len(unique), 500):  # stay under SQLite's bound-parameter limit
                query = select(articles.c.id, articles.c.language).where(
                    articles.c.id.in_(unique[start : start + 500])
                )
                found.update({r.id: r.language for r in conn.execute(query)})
        return found

    @staticmethod
    def _article(row: Any) -> Article:
        return Article(
            id=row.id,
            source=row.source,
            key=row.key,
            language=row.language,
            title=row.title,
            summary=row.summary,
            body_html=row.body_html,
            author=row.author,
            tags=tuple(json.loads(row.tags)),
            image=row.image,
            url=row.url,
            published=row.published.replace(tzinfo=UTC),
            first_seen=row.first_seen.replace(tzinfo=UTC),
            updated=row.updated.replace(tzinfo=UTC),
            content_hash=row.content_hash,
            modified=aware_utc(row.modified),
            withdrawn_at=aware_utc(row.withdrawn_at),
            withdrawn_reason=row.withdrawn_reason,
        )

    def started(self) -> datetime | None:
        """When the store saw its first article (None for an empty store): a date that never moves."""
        with self.engine.connect() as conn:
            return aware_utc(conn.execute(select(func.min(articles.c.first_seen))).scalar())

    def article_count(self) -> int:
        """How many articles are stored."""
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(articles)).scalar_one())

    def article_by_key(self, source: str, key: str) -> Article | None:
        """The stored article with this source and id, if any."""
        query = select(articles).where(and_(articles.c.source == source, articles.c.key == key))
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        return None if row is None else self._article(row)

    def withdraw(self, source: str, key: str, reason: str, when: datetime | None) -> Article | None:
        """Take an article down (`reason` for the record), or with `when` None put it back; None if there is no
        such article. Its row, translations and memory stay: a source still offering it does not restore it."""
        where = and_(articles.c.source == source, articles.c.key == key)
        with self.engine.begin() as conn:
            done = conn.execute(
                update(articles)
                .where(where)
                .values(withdrawn_at=None if when is None else naive_utc(when), withdrawn_reason=reason)
            )
        return self.article_by_key(source, key) if done.rowcount else None

    def withdrawals(self) -> list[tuple[int, datetime]]:
        """(article id, when) of every article taken down, by id: what publishing and housekeeping compare."""
        query = select(articles.c.id, articles.c.withdrawn_at).where(articles.c.withdrawn_at.is_not(None))
        with self.engine.connect() as conn:
            return [
                (int(i), when.replace(tzinfo=UTC)) for i, when in conn.execute(query.order_by(articles.c.id))
            ]


def modified(item: ArticleInput, now: datetime, *, edited: bool) -> datetime:
    """An article's last significant change, for readers: the source's own time when it gives one, else when
    the store saw the edit (`edited`), else its publication. Never before `published`, never after `now`
    (a source's clock ahead of ours), unless `published` itself is ahead (an embargo)."""
    if item.modified is not None:
        return max(min(item.modified, now), item.published)
    return max(now, item.published) if edited else item.published
