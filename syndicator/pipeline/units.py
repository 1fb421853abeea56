"""Translation planning and units: pending work grouped into bounded units of one language pair, and one unit
translated, gated and stored (done, failed with the reason, or waiting for a model).

A unit run by a worker that shares the store with others (the celery runner) runs under a claim: it takes
its articles with `Store.claim` under the claim's owner (the task id, the same on every delivery of the task),
saves each outcome only while the claim is still its own, and gives back what it did not finish. So a task
delivered twice, or two tasks naming one article, translate and store each (article, language) once.
"""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from collections.abc import Collection

from syndicator.errors import StoreError, SyndicatorError
from syndicator.models import DONE, FAILED, NO_MODEL, Translation
from syndicator.pipeline.context import Context
from syndicator.runner import Unit, UnitResult
from syndicator.store.claims import CLAIM_LEASE
from syndicator.translate import PairTranslator, no_model_reason, quality
from syndicator.translate.document import translate_articles

log = logging.getLogger(__name__)

ARTICLES_PER_UNIT = 50  # articles per translation unit: big batches, bounded memory


def plan(ctx: Context, *, unclaimed: bool = False, only: Collection[int] | None = None) -> list[Unit]:
    """Group pending (article, language) pairs by language pair, in bounded units; `unclaimed`: leave out
    those a worker or a queued task holds a live claim on (the celery runner's queue); `only`: just these
    articles' translations."""
    pending = ctx.store.pending(unclaimed=unclaimed)
    if only is not None:
        pending = [(i, lang) for i, lang in pending if i in only]
    if not pending:
        return []
    # Languages only: a backlog's articles are loaded a unit at a time, by the unit that translates them.
    languages = ctx.store.article_languages(i for i, _ in pending)
    groups: dict[tuple[str, str], list[int]] = defaultdict(list)
    # Latest stored first: a file dropped while a backlog waits (or in the same poll as one) is in the first
    # unit of its pairs, not behind thousands of older articles; and the current feeds fill before archives.
    for article_id, target in sorted(pending, key=lambda p: -p[0]):
        groups[(languages[article_id], target)].append(article_id)
    ranked = [
        (rank, Unit(src, tgt, tuple(ids[i : i + ARTICLES_PER_UNIT])))
        for (src, tgt), ids in sorted(groups.items())
        for rank, i in enumerate(range(0, len(ids), ARTICLES_PER_UNIT))
    ]
    # Every pair's first unit, then every pair's second...: no language waits for another's whole backlog.
    return [unit for _, unit in sorted(ranked, key=lambda r: r[0])]


def run_unit(ctx: Context, unit: Unit, *, claim: str | None = None) -> UnitResult:
    """Translate one unit and store the outcome of each article: done, failed or no-model.

    With `claim` (an owner id), only the articles this owner holds or can take are translated, and each
    outcome is stored only while the claim holds; whatever is left is given back at the end.
    """
    if claim is None:
        return UnitResult(unit, {k: n for k, n in _run_unit(ctx, unit, None).items() if n})
    try:
        taken = ctx.store.claim(unit.target, claim, limit=len(unit.article_ids), article_ids=unit.article_ids)
        renewing = _keep_renewing(ctx, claim)
        if len(taken) < len(unit.article_ids):
            log.info(
                "%s: %d of %d article(s) already translated or held by another worker",
                unit.pair, len(unit.article_ids) - len(taken), len(unit.article_ids),
            )  # fmt: skip
        if taken:
            log.info("%s: translating %d article(s) under claim %s", unit.pair, len(taken), claim)
        try:
            counts = _run_unit(ctx, Unit(unit.source, unit.target, tuple(taken)), claim) if taken else {}
        finally:
            renewing.set()
    finally:
        ctx.store.release_claims(claim)
    return UnitResult(unit, {k: n for k, n in counts.items() if n})


def _keep_renewing(ctx: Context, owner: str) -> threading.Event:
    """Renew the owner's claims every third of their lease until the returned event is set: a unit that takes
    longer than the lease (a slow model, long articles) keeps its articles instead of having another worker
    take them over halfway (which would be safe, the claim check keeps its writes out, but wasted)."""
    done = threading.Event()
    interval = CLAIM_LEASE.total_seconds() / 3

    def renew() -> None:
        while not done.wait(interval):
            try:
                ctx.store.renew_claims(owner)
            except SyndicatorError as exc:
                log.warning("renewing claim %s failed: %s", owner, exc)

    threading.Thread(target=renew, name=f"claim-{owner[:8]}", daemon=True).start()
    return done


def refusal_key(ctx: Context, pair: PairTranslator, source: str, target: str) -> str:
    """What a refusal of source → target by this pair depends on (quality.depends_on), from the context."""
    glossary = ctx.faithful.glossary.for_language(target)
    return quality.depends_on(pair, glossary, ctx.faithful.names, ctx.config.translation, source, target)


def _run_unit(ctx: Context, unit: Unit, claim: str | None) -> dict[str, int]:
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
        engine = ctx.config.translation.engine_for(unit.target)
        error = error or no_model_reason(engine, unit.source, unit.target, ctx.config.translation.pivot)
        for a in articles:
            if ctx.store.save_translation(
                Translation(a.id, unit.target, NO_MODEL, engine=engine, error=error, updated=now), claim=claim
            ):
                outcome[NO_MODEL] += 1
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
    depends = refusal_key(ctx, pair, unit.source, unit.target)
    for i, article in enumerate(articles):
        res = results[i] if results is not None else None
        refused = False
        if res is not None and not res.error:
            # Never publish damage as if it were fine. A refusal is not retried on a timer: the same engine,
            # model, glossary and bounds give the same verdict (it waits for `depends` to change).
            res.error = quality.check(
                [quality.Field("title", article.title, res.title),
                 quality.Field("summary", article.summary, res.summary),
                 quality.Field("body", article.body_html, res.body_html, html=True)],
                unit.source, unit.target, t,
            ) or quality.signal_problem(res.signals, pair.engine, t.max_unknown_for(unit.target))  # fmt: skip
            if res.error:
                refused = True
                log.warning("%s %s/%s: %s", unit.target, article.source, article.key, res.error)
        status = DONE if res is not None and not res.error else FAILED
        saved = ctx.store.save_translation(
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
                depends=depends if refused else "",
            ),
            backoff=quality.backoff(t.retry_after),
            claim=claim,
        )
        if saved or claim is None:
            outcome[status] += 1
        else:
            log.warning(
                "%s %s/%s: claim lost to another worker; its outcome stands",
                unit.target,
                article.source,
                article.key,
            )
    return outcome
