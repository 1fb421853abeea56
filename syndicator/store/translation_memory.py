"""The translation memory: remembered sentence translations per language pair and model, with hit counters."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import and_, func, select, update

from syndicator.store.base import StoreBase
from syndicator.store.schema import naive_utc, translation_memory, translation_memory_stats


class TranslationMemoryMixin(StoreBase):
    """The translation memory: remembered sentence translations per language pair and model, with hit counters."""

    # -- translation memory ----------------------------------------------------------------------------

    def translation_memory_lookup(self, pair: str, model: str, hashes: Sequence[str]) -> dict[str, str]:
        """Remembered targets for these source-sentence hashes."""
        found: dict[str, str] = {}
        unique = list(dict.fromkeys(hashes))
        with self.engine.connect() as conn:
            for start in range(0, len(unique), 500):  # stay under SQLite's bound-parameter limit
                chunk = unique[start : start + 500]
                query = select(translation_memory.c.source_hash, translation_memory.c.target).where(
                    and_(
                        translation_memory.c.pair == pair,
                        translation_memory.c.model == model,
                        translation_memory.c.source_hash.in_(chunk),
                    )
                )
                found.update({r.source_hash: r.target for r in conn.execute(query)})
        return found

    def translation_memory_store(self, pair: str, model: str, rows: Sequence[tuple[str, str, str]]) -> None:
        """Remember (hash, source, target) sentences; existing ones are left alone."""
        if not rows:
            return
        now = naive_utc(self.clock())
        with self._tx() as conn:
            known = set()
            hashes = [h for h, _, _ in rows]
            for start in range(0, len(hashes), 500):
                chunk = hashes[start : start + 500]
                known.update(
                    conn.execute(
                        select(translation_memory.c.source_hash).where(
                            and_(
                                translation_memory.c.pair == pair,
                                translation_memory.c.model == model,
                                translation_memory.c.source_hash.in_(chunk),
                            )
                        )
                    ).scalars()
                )
            fresh = {h: (s, t) for h, s, t in rows if h not in known}
            if fresh:
                conn.execute(
                    translation_memory.insert(),
                    [
                        {
                            "pair": pair,
                            "model": model,
                            "source_hash": h,
                            "source": s,
                            "target": t,
                            "created": now,
                        }
                        for h, (s, t) in fresh.items()
                    ],
                )

    def translation_memory_count(self, pair: str, hits: int, misses: int) -> None:
        """Add to a pair's hit and miss counters."""
        with self._tx() as conn:
            row = conn.execute(
                select(translation_memory_stats).where(translation_memory_stats.c.pair == pair)
            ).first()
            if row is None:
                conn.execute(translation_memory_stats.insert().values(pair=pair, hits=hits, misses=misses))
            else:
                conn.execute(
                    update(translation_memory_stats)
                    .where(translation_memory_stats.c.pair == pair)
                    .values(hits=row.hits + hits, misses=row.misses + misses)
                )

    def translation_memory_stats(self) -> dict[str, tuple[int, int, int]]:
        """Per pair: (remembered sentences, hits, misses)."""
        out: dict[str, tuple[int, int, int]] = {}
        with self.engine.connect() as conn:
            sizes = dict(
                [
                    tuple(r)
                    for r in conn.execute(
                        select(translation_memory.c.pair, func.count()).group_by(translation_memory.c.pair)
                    )
                ]
            )
            stats = {r.pair: (r.hits, r.misses) for r in conn.execute(select(translation_memory_stats))}
        for pair in sorted(set(sizes) | set(stats)):
            hits, misses = stats.get(pair, (0, 0))
            out[pair] = (int(sizes.get(pair, 0)), hits, misses)
        return out
