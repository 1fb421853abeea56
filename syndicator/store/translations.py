"""Translations: the queue per article and language, outcomes and readable versions."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import and_, func, select, update

from syndicator.models import DONE, FAILED, NO_MODEL, PENDING, Article, Translation
from syndicator.store.articles import ArticlesMixin
from syndicator.store.schema import articles, aware_utc, clean_text, naive_utc, readable, translations


def _due(now: Any) -> Any:
    """Failed translations whose retry time has come: timed ones (a crash, a full disk), never refusals,
    which wait for a change of what they depend on (retry_refused)."""
    return and_(
        translations.c.status == FAILED,
        translations.c.depends == "",
        # No retry time (recorded before retries were timed): due now.
        translations.c.next_retry.is_(None) | (translations.c.next_retry <= now),
    )


class TranslationsMixin(ArticlesMixin):
    """Translations: the queue per article and language, outcomes and readable versions."""

    # -- translations -----------------------------------------------------------------------------------

    def ensure_pending(self, article: Article, languages: Sequence[str]) -> int:
        """Mark (article, language) pending where no translation of the current content exists."""
        count = 0
        with self._tx() as conn:
            existing = {
                r.language: r
                for r in conn.execute(
                    select(translations.c.language, translations.c.source_hash, translations.c.status).where(
                        translations.c.article_id == article.id
                    )
                )
            }
            fresh = [lang for lang in languages if lang not in existing]
            if fresh:
                count += self._queue(conn, [(article.id, lang) for lang in fresh])
            for lang, row in existing.items():
                if lang in languages and row.source_hash != article.content_hash and row.status != PENDING:
                    # Keep the old text until the new one is done: feeds show the last good version meanwhile.
                    result = conn.execute(
                        update(translations)
                        .where(
                            and_(
                                translations.c.article_id == article.id,
                                translations.c.language == lang,
                                translations.c.status != PENDING,
                            )
                        )
                        .values(status=PENDING, error="")
                    )
                    count += int(result.rowcount or 0)
        return count

    def _queue(self, conn: Any, keys: Sequence[tuple[int, str]]) -> int:
        """Insert pending rows for (article id, language) keys; a row another writer queued first is kept."""
        rows = [{"article_id": i, "language": lang, "status": PENDING, "source_hash": ""} for i, lang in keys]
        queued = 0
        for start in range(0, len(rows), 500):
            result = conn.execute(
                self._insert(translations).on_conflict_do_nothing().returning(translations.c.article_id),
                rows[start : start + 500],
            )
            queued += len(result.all())
        return queued

    def ensure_languages(self, languages: Sequence[str]) -> int:
        """Queue every stored article for each language it lacks (a language added to the config)."""
        count = 0
        with self._tx() as conn:
            for lang in languages:
                missing = select(articles.c.id).where(
                    and_(
                        articles.c.language != lang,
                        ~select(translations.c.article_id)
                        .where(
                            and_(translations.c.article_id == articles.c.id, translations.c.language == lang)
                        )
                        .exists(),
                    )
                )
                ids = list(conn.execute(missing).scalars())
                if ids:
                    count += self._queue(conn, [(i, lang) for i in ids])
        return count

    def no_model_pairs(self) -> list[tuple[str, str, int]]:
        """(source language, target language, articles) for translations waiting for a model."""
        query = (
            select(articles.c.language, translations.c.language, func.count())
            .join(articles, articles.c.id == translations.c.article_id)
            .where(translations.c.status == NO_MODEL)
            .group_by(articles.c.language, translations.c.language)
        )
        with self.engine.connect() as conn:
            return [(str(src), str(tgt), int(n)) for src, tgt, n in conn.execute(query)]

    def retry_no_model(self, source: str, target: str) -> int:
        """Queue again the translations source → target that were waiting for a model."""
        ids = select(articles.c.id).where(articles.c.language == source)
        with self._tx() as conn:
            result = conn.execute(
                update(translations)
                .where(
                    and_(
                        translations.c.status == NO_MODEL,
                        translations.c.language == target,
                        translations.c.article_id.in_(ids),
                    )
                )
                .values(status=PENDING)
            )
            return int(result.rowcount or 0)

    def retry_due(self) -> int:
        """Put failed translations whose retry time has come back to pending; return how many."""
        now = naive_utc(self.clock())
        with self._tx() as conn:
            result = conn.execute(update(translations).where(_due(now)).values(status=PENDING))
            return int(result.rowcount or 0)

    def refused(self) -> list[tuple[str, str, str]]:
        """(source language, target language, depends) of the refusals waiting for a change."""
        query = (
            select(articles.c.language, translations.c.language, translations.c.depends)
            .join(articles, articles.c.id == translations.c.article_id)
            .where(and_(translations.c.status == FAILED, translations.c.depends != ""))
            .distinct()
        )
        with self.engine.connect() as conn:
            return [(str(src), str(tgt), str(dep)) for src, tgt, dep in conn.execute(query)]

    def retry_refused(self, source: str, target: str, depends: str) -> int:
        """Queue again the refusals source → target made under another fingerprint than `depends` (the engine,
        model, glossary or gate settings changed since); return how many."""
        ids = select(articles.c.id).where(articles.c.language == source)
        with self._tx() as conn:
            result = conn.execute(
                update(translations)
                .where(
                    and_(
                        translations.c.status == FAILED,
                        translations.c.language == target,
                        translations.c.depends != "",
                        translations.c.depends != depends,
                        translations.c.article_id.in_(ids),
                    )
                )
                .values(status=PENDING)
            )
            return int(result.rowcount or 0)

    def retries_due(self) -> int:
        """How many failed translations may be retried now (read only)."""
        now = naive_utc(self.clock())
        query = select(func.count()).where(_due(now))
        with self.engine.connect() as conn:
            return int(conn.execute(query).scalar_one())

    def failures(self) -> list[Translation]:
        """Every failed translation (with its attempts and next retry), oldest article first."""
        query = (
            select(translations)
            .where(translations.c.status == FAILED)
            .order_by(translations.c.article_id, translations.c.language)
        )
        with self.engine.connect() as conn:
            return [self._translation(r) for r in conn.execute(query)]

    def pending(self, language: str | None = None, *, unclaimed: bool = False) -> list[tuple[int, str]]:
        """(article id, language) pairs waiting for translation; `unclaimed`: only those no worker or queued
        task holds a live claim on (store/claims.py)."""
        query = select(translations.c.article_id, translations.c.language).where(
            translations.c.status == PENDING
        )
        if unclaimed:
            now = naive_utc(self.clock())
            query = query.where(
                translations.c.claimed_until.is_(None) | (translations.c.claimed_until <= now)
            )
        if language is not None:
            query = query.where(translations.c.language == language)
        with self.engine.connect() as conn:
            return [
                (r.article_id, r.language)
                for r in conn.execute(query.order_by(translations.c.article_id, translations.c.language))
            ]

    def save_translation(
        self,
        tr: Translation,
        backoff: Callable[[int], timedelta] | None = None,
        *,
        claim: str | None = None,
    ) -> bool:
        """Record a translation's outcome; a failed retranslation keeps the last good text. Returns whether it
        was written.

        A failure counts an attempt (in SQL) and sets the next retry `backoff(attempts)` from now (without a
        backoff: the next cycle). With `claim`, a worker's id (store/claims.py), the outcome is written only
        while that worker still holds the claim: one whose claim expired and was taken over by another
        worker writes nothing. Every write releases the row's claim.
        """
        values: dict[str, Any] = {
            "status": tr.status,
            "engine": tr.engine,
            "model_version": tr.model_version,
            "pivot": tr.pivot,
            "error": clean_text(tr.error),
            "updated": naive_utc(tr.updated or self.clock()),
            "changed": naive_utc(self.clock()),
            "claimed_by": "",
            "claimed_until": None,
        }
        key = and_(translations.c.article_id == tr.article_id, translations.c.language == tr.language)
        if claim is not None:
            key = and_(key, translations.c.claimed_by == claim)
        with self._tx() as conn:
            if tr.status == FAILED:
                attempts = conn.execute(
                    update(translations)
                    .where(key)
                    .values(attempts=translations.c.attempts + 1)
                    .returning(translations.c.attempts)
                ).scalar()
                if attempts is None:
                    return False
                when = self.clock() + backoff(attempts) if backoff is not None and not tr.depends else None
                values["next_retry"] = naive_utc(when) if when is not None else None
                values["depends"] = tr.depends
            elif tr.status == DONE:
                values.update(attempts=0, next_retry=None, reviewed=tr.reviewed, depends="")
            if tr.status == DONE:
                text = {"title": clean_text(tr.title), "summary": clean_text(tr.summary),
                        "body_html": clean_text(tr.body_html)}  # fmt: skip
                # The ratio describes the text it came with (a failure's reason names its own).
                tags = json.dumps([clean_text(t) for t in tr.tags], ensure_ascii=False)
                values.update(text, source_hash=tr.source_hash, unknown_ratio=tr.unknown_ratio, tags=tags)
                old = conn.execute(
                    select(
                        translations.c.title,
                        translations.c.summary,
                        translations.c.body_html,
                        translations.c.reviewed,
                        articles.c.modified,
                        articles.c.published,
                    )
                    .join(articles, articles.c.id == translations.c.article_id)
                    .where(key)
                ).first()
                if old is not None and (old.title, old.summary, old.body_html) == tuple(text.values()):
                    # Same words as before: the entry did not change, so neither of its dates does.
                    del values["updated"]
                else:
                    values["revised"] = values["changed"]  # the feed showing it changed now
                    if old is not None and not tr.reviewed and not old.reviewed:
                        # Machine text says what its article says: dated like the article's last significant
                        # change (a March article translated today is still from March; a new model's
                        # rewording is no news to readers). A human correction is dated when it was made.
                        values["updated"] = old.modified or old.published
            else:
                # Only finished text moves `updated`: feeds date an entry by its content.
                del values["updated"]
            return bool(conn.execute(update(translations).where(key).values(**values)).rowcount)

    def translations_for(self, article_ids: Sequence[int], language: str) -> dict[int, Translation]:
        """Stored translations of these articles into one language, by article id."""
        query = select(translations).where(
            and_(translations.c.article_id.in_(list(article_ids)), translations.c.language == language)
        )
        with self.engine.connect() as conn:
            return {r.article_id: self._translation(r) for r in conn.execute(query)}

    @staticmethod
    def _translation(row: Any) -> Translation:
        return Translation(
            article_id=row.article_id,
            language=row.language,
            status=row.status,
            title=row.title,
            summary=row.summary,
            body_html=row.body_html,
            engine=row.engine,
            model_version=row.model_version,
            pivot=row.pivot,
            error=row.error,
            source_hash=row.source_hash,
            updated=aware_utc(row.updated),
            revised=aware_utc(row.revised),
            reviewed=bool(row.reviewed),
            attempts=row.attempts,
            next_retry=aware_utc(row.next_retry),
            unknown_ratio=row.unknown_ratio,
            tags=_tags(row.tags),
            depends=row.depends,
        )

    def unknown_ratios(self) -> dict[str, tuple[float, float]]:
        """Per language, (mean, max) share of words the engine marked unknown in done translations."""
        done = and_(translations.c.status == DONE, translations.c.unknown_ratio.is_not(None))
        query = (
            select(
                translations.c.language,
                func.avg(translations.c.unknown_ratio),
                func.max(translations.c.unknown_ratio),
            )
            .where(done)
            .group_by(translations.c.language)
        )
        with self.engine.connect() as conn:
            return {lang: (float(mean), float(top)) for lang, mean, top in conn.execute(query)}

    def counts(self) -> dict[str, dict[str, int]]:
        """Translation counts per language and status."""
        query = select(translations.c.language, translations.c.status, func.count()).group_by(
            translations.c.language, translations.c.status
        )
        out: dict[str, dict[str, int]] = {}
        with self.engine.connect() as conn:
            for lang, status, n in conn.execute(query):
                out.setdefault(lang, {})[status] = n
        return out

    def language_counts(self, language: str) -> dict[str, int]:
        """One language's translation counts per status (the queue index answers it)."""
        query = (
            select(translations.c.status, func.count())
            .where(translations.c.language == language)
            .group_by(translations.c.status)
        )
        with self.engine.connect() as conn:
            return {str(status): int(n) for status, n in conn.execute(query)}

    def errors(self, language: str, limit: int = 5) -> list[tuple[str, str, int]]:
        """The most common (status, error, count) among this language's unfinished translations."""
        n = func.count().label("n")
        query = (
            select(translations.c.status, translations.c.error, n)
            .where(and_(translations.c.language == language, translations.c.error != ""))
            .group_by(translations.c.status, translations.c.error)
            .order_by(n.desc(), translations.c.status, translations.c.error)
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return [(r.status, r.error, r.n) for r in conn.execute(query)]

    def versions(self, language: str, limit: int) -> list[tuple[Article, Translation | None]]:
        """The newest `limit` articles readable in `language`: originals in it, or done translations."""
        return self._versions(language, None, limit)

    def versions_of(
        self, language: str, article_ids: Iterable[int]
    ) -> list[tuple[Article, Translation | None]]:
        """Those of these articles that are readable in `language`, newest first."""
        ids = list(article_ids)
        out = [
            v
            for start in range(0, len(ids), 500)
            for v in self._versions(language, ids[start : start + 500], None)
        ]
        out.sort(key=lambda v: (v[0].published, v[0].id), reverse=True)
        return out

    def _versions(
        self, language: str, ids: list[int] | None, limit: int | None
    ) -> list[tuple[Article, Translation | None]]:
        tr = translations
        query = (
            select(articles, *[c.label(f"tr_{c.name}") for c in tr.c])
            .select_from(
                articles.outerjoin(tr, and_(tr.c.article_id == articles.c.id, tr.c.language == language))
            )
            .where((articles.c.language == language) | readable(tr))
            .order_by(articles.c.published.desc(), articles.c.id.desc())
        )
        if ids is not None:
            query = query.where(articles.c.id.in_(ids))
        if limit is not None:
            query = query.limit(limit)
        out: list[tuple[Article, Translation | None]] = []
        with self.engine.connect() as conn:
            for row in conn.execute(query):
                translation = None
                if row.language != language:
                    m = row._mapping
                    translation = Translation(
                        article_id=row.id,
                        language=language,
                        status=m["tr_status"],
                        title=m["tr_title"],
                        summary=m["tr_summary"],
                        body_html=m["tr_body_html"],
                        engine=m["tr_engine"],
                        model_version=m["tr_model_version"],
                        pivot=m["tr_pivot"],
                        error=m["tr_error"],
                        source_hash=m["tr_source_hash"],
                        updated=aware_utc(m["tr_updated"]),
                        revised=aware_utc(m["tr_revised"]),
                        reviewed=bool(m["tr_reviewed"]),
                        unknown_ratio=m["tr_unknown_ratio"],
                        tags=_tags(m["tr_tags"]),
                    )
                out.append((self._article(row), translation))
        return out

    def done_languages(self, article_ids: Sequence[int]) -> dict[int, set[str]]:
        """For each article, the languages it can be read in through a translation (see `readable`)."""
        out: dict[int, set[str]] = {i: set() for i in article_ids}
        query = select(translations.c.article_id, translations.c.language).where(
            and_(translations.c.article_id.in_(list(article_ids)), readable())
        )
        with self.engine.connect() as conn:
            for r in conn.execute(query):
                out[r.article_id].add(r.language)
        return out

    def requeue_stale(self) -> int:
        """Queue again done translations of an older text (an update whose queueing a crash cut short)."""
        stale = (
            select(articles.c.content_hash)
            .where(articles.c.id == translations.c.article_id)
            .scalar_subquery()
        )
        with self._tx() as conn:
            result = conn.execute(
                update(translations)
                .where(and_(translations.c.status == DONE, translations.c.source_hash != stale))
                .values(status=PENDING, error="")
            )
            return int(result.rowcount or 0)


def _tags(stored: str | None) -> tuple[str, ...]:
    """Translated tags as stored (a JSON list); anything else reads as none."""
    try:
        tags = json.loads(stored or "[]")
    except ValueError:
        return ()
    return tuple(str(t) for t in tags) if isinstance(tags, list) else ()
