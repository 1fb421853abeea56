"""Human corrections: which file was applied to which translation."""

from __future__ import annotations

from sqlalchemy import and_, delete, select, update

from syndicator.models import PENDING, Translation
from syndicator.store.schema import articles, corrections, naive_utc, translations
from syndicator.store.translations import TranslationsMixin


class CorrectionsMixin(TranslationsMixin):
    """Human corrections: which file was applied to which translation."""

    # -- human corrections -----------------------------------------------------------------------------

    def correction(self, article_id: int, language: str) -> tuple[str, str] | None:
        """(file hash, article hash) of the correction applied to this translation, if any."""
        query = select(corrections.c.file_hash, corrections.c.source_hash).where(
            and_(corrections.c.article_id == article_id, corrections.c.language == language)
        )
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        return None if row is None else (row.file_hash, row.source_hash)

    def apply_correction(self, tr: Translation, path: str, file_hash: str) -> None:
        """Store a human correction as the finished, reviewed translation, and remember its file."""
        self.save_translation(tr)
        values = {"path": path, "file_hash": file_hash, "source_hash": tr.source_hash,
                  "applied": naive_utc(self.clock())}  # fmt: skip
        insert = self._insert(corrections).values(article_id=tr.article_id, language=tr.language, **values)
        with self._tx() as conn:
            conn.execute(
                insert.on_conflict_do_update(
                    index_elements=[corrections.c.article_id, corrections.c.language], set_=values
                )
            )

    def drop_correction(self, article_id: int, language: str) -> None:
        """Forget a correction whose file is gone; its translation goes back to the machine."""
        with self._tx() as conn:
            conn.execute(
                delete(corrections).where(
                    and_(corrections.c.article_id == article_id, corrections.c.language == language)
                )
            )
            conn.execute(
                update(translations)
                .where(
                    and_(
                        translations.c.article_id == article_id,
                        translations.c.language == language,
                        translations.c.reviewed.is_(True),
                    )
                )
                .values(status=PENDING, reviewed=False)
            )

    def corrections(self) -> list[tuple[int, str, str, bool]]:
        """Every remembered correction: (article id, language, path, stale), stale when the article changed."""
        query = select(
            corrections.c.article_id, corrections.c.language, corrections.c.path,
            (corrections.c.source_hash != articles.c.content_hash).label("stale"),
        ).select_from(corrections.join(articles, articles.c.id == corrections.c.article_id))  # fmt: skip
        with self.engine.connect() as conn:
            return [(r.article_id, r.language, r.path, bool(r.stale)) for r in conn.execute(query)]
