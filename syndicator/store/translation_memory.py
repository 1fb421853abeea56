"""The translation memory: remembered sentence translations per language pair and model, with hit counters."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import and_, func, select

from syndicator.store.base import StoreBase
from syndicator.store.schema import clean_text, naive_utc, translation_memory, translation_memory_stats


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
        """Remember (hash, source, target) sentences; existing ones are left alone (whoever wrote first)."""
        fresh = {h: (s, t) for h, s, t in rows}
        if not fresh:
            return
        now = naive_utc(self.clock())
        records = [
            {"pair": pair, "model": model, "source_hash": h, "source": clean_text(s), "target": clean_text(t),
             "created": now}
            for h, (s, t) in fresh.items()
        ]  # fmt: skip
        with self._tx() as conn:
            conn.execute(self._insert(translation_memory).on_conflict_do_nothing(), records)

    def translation_memory_count(self, pair: str, hits: int, misses: int) -> None:
        """Add to a pair's hit and miss counters (in SQL: concurrent workers' counts all add up)."""
        insert = self._insert(translation_memory_stats).values(pair=pair, hits=hits, misses=misses)
        with self._tx() as conn:
            conn.execute(
                insert.on_conflict_do_update(
                    index_elements=[translation_memory_stats.c.pair],
                    set_={
                        "hits": translation_memory_stats.c.hits + insert.excluded.hits,
                        "misses": translation_memory_stats.c.misses + insert.excluded.misses,
                    },
                )
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
