"""Claims: which worker is translating which pending (article, language), settled by the database.

A worker takes pending rows with `claim` before it translates them and hands each outcome to
`save_translation(…, claim=owner)`, which writes only while the claim is still that worker's and then releases
it. A claim carries an expiry: rows claimed by a worker that died are free again once its lease has passed, and
the late outcome of a worker whose claim was taken over is not written. On PostgreSQL the claim is one UPDATE
over rows picked with FOR UPDATE SKIP LOCKED (concurrent claimers skip each other's rows instead of waiting or
taking them twice); on SQLite the same statement runs under the single writer lock (BEGIN IMMEDIATE), which makes
it just as atomic.

The in-process runner does not claim: in one process nothing else translates. Several processes or machines
translating from one store (run.runner = celery) must.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select, update

from syndicator.models import PENDING
from syndicator.store.schema import aware_utc, naive_utc, translations
from syndicator.store.translations import TranslationsMixin

CLAIM_LEASE = timedelta(minutes=15)  # longer than a unit of work takes; a dead worker's rows wait this long


class ClaimsMixin(TranslationsMixin):
    """Claims: which worker is translating which pending (article, language)."""

    def claim(
        self,
        language: str,
        owner: str,
        *,
        limit: int = 50,
        article_ids: Sequence[int] | None = None,
        lease: timedelta = CLAIM_LEASE,
    ) -> list[int]:
        """Take up to `limit` pending translations into `language` (of those articles, when given) for
        `owner` until `lease` from now; return their article ids, oldest first.

        Rows another owner holds are skipped until the claim expires; the owner's own claims are taken again
        (and renewed), so a task delivered twice to the same worker is harmless.
        """
        tr = translations
        now = self.clock()
        free = and_(
            tr.c.language == language,
            tr.c.status == PENDING,
            or_(tr.c.claimed_until.is_(None), tr.c.claimed_until <= naive_utc(now), tr.c.claimed_by == owner),
        )
        pick = select(tr.c.article_id, tr.c.language).where(free)
        if article_ids is not None:
            pick = pick.where(tr.c.article_id.in_(list(article_ids)))
        # SKIP LOCKED: rows another claimer is taking right now are passed over, not waited for (PostgreSQL;
        # SQLite renders no FOR UPDATE and needs none, its writers queue for the one write lock). The pick is
        # a MATERIALIZED CTE, run once: PostgreSQL may run an `IN (subquery)` again for each updated row, and
        # each run, skipping the rows the statement already took, would let LIMIT bound nothing.
        picked = (
            pick.order_by(tr.c.article_id)
            .limit(limit)
            .with_for_update(skip_locked=True)
            .cte("picked")
            .prefix_with("MATERIALIZED")
        )
        statement = (
            update(tr)
            .where(and_(tr.c.article_id == picked.c.article_id, tr.c.language == picked.c.language))
            .values(claimed_by=owner, claimed_until=naive_utc(now + lease))
            .returning(tr.c.article_id)
        )
        with self._tx() as conn:
            return sorted(int(i) for i in conn.execute(statement).scalars())

    def renew_claims(self, owner: str, lease: timedelta = CLAIM_LEASE) -> int:
        """Extend the owner's live claims to `lease` from now (a long unit's heartbeat); return how many."""
        tr = translations
        with self._tx() as conn:
            result = conn.execute(
                update(tr)
                .where(and_(tr.c.claimed_by == owner, tr.c.status == PENDING))
                .values(claimed_until=naive_utc(self.clock() + lease))
            )
            return int(result.rowcount or 0)

    def release_claims(self, owner: str) -> int:
        """Give back every row the owner still holds (a worker stopping cleanly); return how many."""
        tr = translations
        with self._tx() as conn:
            result = conn.execute(
                update(tr).where(tr.c.claimed_by == owner).values(claimed_by="", claimed_until=None)
            )
            return int(result.rowcount or 0)

    def claims(self, language: str | None = None) -> list[tuple[int, str, str, datetime]]:
        """Claimed pending translations: (article id, language, owner, until), live or expired."""
        tr = translations
        query = select(tr.c.article_id, tr.c.language, tr.c.claimed_by, tr.c.claimed_until).where(
            and_(tr.c.status == PENDING, tr.c.claimed_by != "")
        )
        if language is not None:
            query = query.where(tr.c.language == language)
        with self.engine.connect() as conn:
            return [
                (int(r.article_id), r.language, r.claimed_by, aware_utc(r.claimed_until) or self.clock())
                for r in conn.execute(query.order_by(tr.c.article_id, tr.c.language))
            ]
