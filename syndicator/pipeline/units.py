"""Translation planning and units: pending work grouped into bounded units of one language pair, and one unit
translated, gated and stored (done, failed with the reason, or waiting for a model)."""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass

from syndicator.errors import StoreError, SyndicatorError
from syndicator.models import DONE, FAILED, NO_MODEL, Translation
from syndicator.pipeline.context import Context
from syndicator.translate import PairTranslator, quality
from syndicator.translate.apertium import install_hint
from syndicator.translate.document import translate_articles

log = logging.getLogger(__name__)

ARTICLES_PER_UNIT = 50  # articles per translation unit: big batches, bounded memory


@dataclass(frozen=True)
class Unit:
    """One unit of translation work: plain data, so a task queue could carry it."""

    source: str
    target: str
    article_ids: tuple[int, ...]


def plan(ctx: Context) -> list[Unit]:
    """Group pending (article, language) pairs by language pair, in bounded units."""
    pending = ctx.store.pending()
    if not pending:
        return []
    languages = {a.id: a.language for a in ctx.store.articles({i for i, _ in pending})}
    groups: dict[tuple[str, str], list[int]] = defaultdict(list)
    for article_id, target in pending:
        groups[(languages[article_id], target)].append(article_id)
    return [
        Unit(src, tgt, tuple(ids[i : i + ARTICLES_PER_UNIT]))
        for (src, tgt), ids in sorted(groups.items())
        for i in range(0, len(ids), ARTICLES_PER_UNIT)
    ]


def run_unit(ctx: Context, unit: Unit) -> dict[str, int]:
    """Translate one unit and store the outcome of each article: done, failed or no-model."""
    outcome = {DONE: 0, FAILED: 0, NO_MODEL: 0}
    now = ctx.clock()
    articles = ctx.store.articles(unit.article_ids)
    pair: PairTranslator | None
    try:
        pair = ctx.engine_for(unit.target).pair(unit.source, unit.target)
    except SyndicatorError as exc:
        pair, error = None, str(exc)
    else:
        error = ""
    if pair is None:
        engine = ctx.config.translation.engines.get(unit.target, ctx.config.translation.engine)
        pivot = ctx.config.translation.pivot
        via = "" if pivot in (unit.source, unit.target) else f" (directly or through {pivot})"
        install = (
            f"install the Debian package {install_hint(unit.source, unit.target)}"
            if engine == "apertium"
            else "install one with: syndicator models install FILE.argosmodel"
        )
        error = error or f"no {engine} model for {unit.source} → {unit.target}{via}; {install}"
        for a in articles:
            ctx.store.save_translation(
                Translation(a.id, unit.target, NO_MODEL, engine=engine, error=error, updated=now)
            )
        outcome[NO_MODEL] = len(articles)
        return outcome
    try:
        results = translate_articles(
            pair, articles, ctx.store, ctx.config.translation.batch_size, faithful=ctx.faithful
        )
    except StoreError:
        raise  # the store, not the translation, failed (a full disk): the articles stay pending
    except Exception as exc:  # an engine crash fails this unit only; the rest of the cycle goes on
        log.error(
            "translating %s → %s failed: %s", unit.source, unit.target, exc, exc_info=log.isEnabledFor(10)
        )
        results = None
        crash = f"{type(exc).__name__}: {exc}"
    by_id = {a.id: a for a in articles}
    t = ctx.config.translation
    for i, article in enumerate(articles):
        res = results[i] if results is not None else None
        if res is not None and not res.error:
            # Never publish damage as if it were fine: a gate failure is retried later, with backoff.
            res.error = quality.check(
                [quality.Field("title", article.title, res.title),
                 quality.Field("summary", article.summary, res.summary),
                 quality.Field("body", article.body_html, res.body_html, html=True)],
                unit.source, unit.target, t,
            ) or quality.signal_problem(res.signals, pair.engine, t.max_unknown_for(unit.target))  # fmt: skip
            if res.error:
                log.warning("%s %s/%s: %s", unit.target, article.source, article.key, res.error)
        status = DONE if res is not None and not res.error else FAILED
        ctx.store.save_translation(
            Translation(
                article_id=article.id,
                language=unit.target,
                status=status,
                title=res.title if res else "",
                summary=res.summary if res else "",
                body_html=res.body_html if res else "",
                engine=pair.engine,
                model_version=pair.model_id,
                pivot=pair.pivot,
                unknown_ratio=res.signals.unknown_ratio if res else None,
                tags=res.tags if res else (),
                error=(res.error if res else crash),
                source_hash=by_id[article.id].content_hash,
                updated=now,
            ),
            backoff=quality.backoff(t.retry_after),
        )
        outcome[status] += 1
    return outcome
