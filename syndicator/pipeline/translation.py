"""Stage 2, translate: corrections first, then every pending unit through the runner, with retries and
languages that a newly installed model now covers queued again."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Collection

from syndicator.errors import SyndicatorError
from syndicator.models import DONE, FAILED, NO_MODEL, CycleReport
from syndicator.pipeline.context import Context
from syndicator.pipeline.units import plan, refusal_key
from syndicator.progress import BacklogProgress
from syndicator.runner import QUEUED
from syndicator.translate import corrections

log = logging.getLogger(__name__)


def translate(
    ctx: Context,
    report: CycleReport,
    *,
    only: Collection[int] | None = None,
    interrupt: Callable[[], bool] | None = None,
) -> bool:
    """Translate everything pending, one unit per language pair (and per 50 articles); `only`: just these
    articles' pending translations (news first: no corrections, retries or backlog).

    `interrupt` is asked after each unit: when it says so, the units not started stay pending (they are
    planned again next time) and this returns True; False when everything planned was run."""
    if only is None:
        apply_corrections(ctx, report)
        _retry_newly_covered(ctx, report)
        _retry_changed_refusals(ctx)
        retried = ctx.store.retry_due()
        if retried:
            log.info("retrying %d failed translation(s)", retried)
    # Work a queued task or a worker holds is already on its way: planning it again would queue it twice.
    units = plan(ctx, unclaimed=True, only=only)
    totals: dict[str, int] = defaultdict(int)
    for u in units:
        totals[u.target] += len(u.article_ids)
    progress = BacklogProgress(totals)
    tallies = ((DONE, "translated"), (FAILED, "failed"), (NO_MODEL, "no_model"), (QUEUED, "queued"))
    interrupted = False
    results = ctx.runner.run(units)
    try:
        # Progress and tallies come from the results, wherever the units ran.
        for result in results:
            progress.advance(result.unit.target, len(result.unit.article_ids))
            for status, attr in tallies:
                if n := result.counts.get(status, 0):
                    counts = getattr(report, attr)
                    counts[result.unit.target] = counts.get(result.unit.target, 0) + n
            if interrupt is not None and interrupt():
                interrupted = True
                break
    finally:
        close = getattr(results, "close", None)
        if close is not None:
            close()  # a runner stops the units it has not started (they stay pending)
        progress.close()
    for lang, n in sorted(report.no_model.items()):
        level = logging.DEBUG if lang in ctx.no_model_warned else logging.WARNING
        log.log(
            level, "%s: %d article(s) wait for a translation model (see: syndicator models list)", lang, n
        )
    # A full pass says which languages still wait; a news pass only adds to them.
    waiting = set(report.no_model)
    ctx.no_model_warned = waiting if only is None else ctx.no_model_warned | waiting
    return interrupted


def apply_corrections(ctx: Context, report: CycleReport) -> None:
    """Put editors' corrections in place of machine translations (see translate/corrections.py)."""
    done = corrections.apply(
        ctx.store, ctx.config.translation.corrections_dir, ctx.config.languages.all, ctx.clock()
    )
    report.problems.extend(done.problems)
    for lang, n in done.applied.items():
        report.corrected[lang] = report.corrected.get(lang, 0) + n


def _retry_newly_covered(ctx: Context, report: CycleReport) -> None:
    """Queue again what waited for a model where one now covers the pair; count what still waits."""
    for source, target, waiting in ctx.store.no_model_pairs():
        try:
            covered = ctx.engine_for(target).pair(source, target) is not None
        except SyndicatorError:
            covered = False  # still unusable: its unit would only record the same error again
        if covered:
            ctx.store.retry_no_model(source, target)
        else:
            report.no_model[target] = report.no_model.get(target, 0) + waiting


def _retry_changed_refusals(ctx: Context) -> None:
    """Queue again the refusals whose engine, model, glossary or gate settings changed since (the only
    retries that can give another verdict; an article's own change queues it by itself)."""
    for source, target in sorted({(src, tgt) for src, tgt, _ in ctx.store.refused()}):
        try:
            pair = ctx.engine_for(target).pair(source, target)
        except SyndicatorError:
            pair = None
        # No model now: queued too, so its unit records the missing model instead of an outdated verdict.
        depends = refusal_key(ctx, pair, source, target) if pair is not None else ""
        if n := ctx.store.retry_refused(source, target, depends):
            log.info("%s: retrying %d refused translation(s): what they depend on changed", target, n)
