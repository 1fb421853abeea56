"""Stage 1, sources → store: poll the due sources side by side, queue what changed for translation."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from syndicator.config import SourceConfig
from syndicator.models import CycleReport
from syndicator.pipeline.context import Context
from syndicator.pipeline.poll import poll_source, source_context

log = logging.getLogger(__name__)

SOURCE_THREADS = 4  # sources polled at the same time in one collect


def collect(
    ctx: Context, report: CycleReport, names: Sequence[str] | None = None, *, force: bool = False
) -> list[int]:
    """Poll sources (all, or those named) and store what they hold; return ids of new or changed articles.

    A source that is backing off after failures is skipped until its next poll, unless `force`.
    """
    source_ctx = source_context(ctx)
    states = ctx.store.source_states()
    now = ctx.clock()
    due: list[SourceConfig] = []
    for cfg in ctx.config.sources:
        if not cfg.enabled or (names is not None and cfg.name not in names):
            continue
        state = states.get(cfg.name, {})
        if not force and state.get("next_poll") and state["next_poll"] > now:
            log.info(
                "source %s: backing off after %d failure(s) until %s UTC (last error: %s)",
                cfg.name, state.get("failures", 0), f"{state['next_poll']:%Y-%m-%d %H:%M:%S}", state.get("last_error"),
            )  # fmt: skip
            continue
        due.append(cfg)

    def poll(cfg: SourceConfig) -> tuple[list[int], CycleReport]:
        part = CycleReport()
        state = states.get(cfg.name, {})
        failures = int(state.get("failures", 0))
        known = frozenset(state.get("problems") or ())  # what the last poll reported: logged once
        return poll_source(ctx, cfg, source_ctx, failures, part, known), part

    # Sources wait on the network, not the CPU: polled side by side so a slow one delays no other.
    with ThreadPoolExecutor(
        max_workers=max(1, min(SOURCE_THREADS, len(due))), thread_name_prefix="poll"
    ) as pool:
        results = list(pool.map(poll, due))
    changed: list[int] = []
    for ids, part in results:  # merged in config order: the report reads the same every time
        changed += ids
        report.new += part.new
        report.updated += part.updated
        report.unchanged += part.unchanged
        report.duplicates += part.duplicates
        report.problems.extend(part.problems)
        report.announced |= part.announced
    for article in ctx.store.articles(changed) if changed else []:
        targets = [lang for lang in ctx.config.languages.all if lang != article.language]
        ctx.store.ensure_pending(article, targets)
    if not ctx.queue_checked:
        repair_queue(ctx)
        ctx.queue_checked = True
    return changed


def repair_queue(ctx: Context) -> None:
    """Once per context: repair what a crash or a config change left unqueued (each scans the store)."""
    # A crash between storing an update and queueing it would leave old translations marked done.
    if stale := ctx.store.requeue_stale():
        log.info("queued %d translation(s) of updated articles again", stale)
    queued = ctx.store.ensure_languages(ctx.config.languages.all)
    if queued:
        log.info("queued %d translation(s) for newly configured languages", queued)
