"""Publishing state: what changed since a publish, feed pages and publish marks."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from sqlalchemy import and_, func, select, union

from syndicator.models import DONE
from syndicator.store.base import StoreBase
from syndicator.store.schema import articles, feed_entries, naive_utc, publish_marks, translations


class PublishingMixin(StoreBase):
    """Publishing state: what changed since a publish, feed pages and publish marks."""

    # -- publishing state ---------------------------------------------------------------------------------

    def changed_since(self, since: datetime) -> set[int]:
        """Ids of articles whose content or any translation changed at or after `since` (index ranges only)."""
        moment = naive_utc(since)
        query = union(
            select(articles.c.id.label("id")).where(articles.c.updated >= moment),
            select(translations.c.article_id.label("id")).where(translations.c.changed >= moment),
        )
        with self.engine.connect() as conn:
            return {int(i) for i in conn.execute(query).scalars()}

    def readable_ids(self, language: str) -> list[int]:
        """Every article readable in `language`, oldest first (a full rebuild only: this reads them all)."""
        tr = translations
        query = (
            select(articles.c.id)
            .select_from(
                articles.outerjoin(tr, and_(tr.c.article_id == articles.c.id, tr.c.language == language))
            )
            .where((articles.c.language == language) | (tr.c.status == DONE))
            .order_by(articles.c.published, articles.c.id)
        )
        with self.engine.connect() as conn:
            return [int(i) for i in conn.execute(query).scalars()]

    def feed_pages(self, language: str, article_ids: Iterable[int] | None = None) -> dict[int, int | None]:
        """Where entries are published: None for the current feed, n for archive page n (those ids, or the
        current feed's when ids is None)."""
        fe = feed_entries
        query = select(fe.c.article_id, fe.c.page).where(fe.c.language == language)
        if article_ids is None:
            with self.engine.connect() as conn:
                return {int(r.article_id): r.page for r in conn.execute(query.where(fe.c.page.is_(None)))}
        ids = list(article_ids)
        out: dict[int, int | None] = {}
        with self.engine.connect() as conn:
            for start in range(0, len(ids), 500):  # bounded statements, however many ids
                chunk = query.where(fe.c.article_id.in_(ids[start : start + 500]))
                out.update({int(r.article_id): r.page for r in conn.execute(chunk)})
        return out

    def page_ids(self, language: str, page: int) -> list[int]:
        """The article ids filed in one archive page."""
        fe = feed_entries
        query = select(fe.c.article_id).where(and_(fe.c.language == language, fe.c.page == page))
        with self.engine.connect() as conn:
            return [int(i) for i in conn.execute(query).scalars()]

    def last_page(self, language: str) -> tuple[int, int]:
        """(number, entry count) of the newest archive page; (0, 0) when nothing is archived."""
        fe = feed_entries
        with self.engine.connect() as conn:
            page = conn.execute(select(func.max(fe.c.page)).where(fe.c.language == language)).scalar()
            if page is None:
                return 0, 0
            count = conn.execute(
                select(func.count()).select_from(fe).where(and_(fe.c.language == language, fe.c.page == page))
            ).scalar_one()
        return int(page), int(count)

    def set_feed_pages(self, language: str, pages: dict[int, int | None]) -> None:
        """File entries in the current feed (None) or an archive page."""
        fe = feed_entries
        insert = self._insert(fe)
        upsert = insert.on_conflict_do_update(
            index_elements=[fe.c.language, fe.c.article_id], set_={"page": insert.excluded.page}
        )
        rows = [{"language": language, "article_id": i, "page": p} for i, p in pages.items()]
        with self._tx() as conn:
            for start in range(0, len(rows), 500):  # bounded statements on a full rebuild
                conn.execute(upsert, rows[start : start + 500])

    def publish_mark(self, language: str) -> tuple[datetime, str, str] | None:
        """(start time, settings signature, current feed hash) of the last successful publish, if any."""
        with self.engine.connect() as conn:
            row = conn.execute(select(publish_marks).where(publish_marks.c.language == language)).first()
        return None if row is None else (row.since.replace(tzinfo=UTC), row.signature, row.current)

    def set_publish_mark(self, language: str, since: datetime, signature: str, current: str) -> None:
        """Record a successful publish of a language that started at `since`."""
        values = {"since": naive_utc(since), "signature": signature, "current": current}
        insert = self._insert(publish_marks).values(language=language, **values)
        with self._tx() as conn:
            conn.execute(insert.on_conflict_do_update(index_elements=[publish_marks.c.language], set_=values))
