"""Polling one source into the store: what a source gets to work with, what counts as a change, and when a
failing source is tried again."""

from __future__ import annotations

import hashlib
import json
import logging
import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from syndicator.config import SourceConfig
from syndicator.errors import BadItem, StoreError, SyndicatorError
from syndicator.models import ArticleInput, CycleReport, Problem, Unchanged
from syndicator.pipeline.context import Context
from syndicator.sources import SourceContext, item_error, make_source
from syndicator.sources.ids import canonical_url
from syndicator.store.refusals import is_item_fault, refusal

log = logging.getLogger(__name__)


def content_hash(item: ArticleInput) -> str:
    """What makes an article "changed": every field a reader sees."""
    fields = [item.language, item.title, item.summary, item.body_html, item.author, list(item.tags),
              item.image, item.url, item.published.isoformat()]  # fmt: skip
    return hashlib.sha256(json.dumps(fields, ensure_ascii=False).encode("utf-8")).hexdigest()


def source_context(ctx: Context) -> SourceContext:
    """What sources get: the site's time zone, the instance's HTTP client, the page states (the store)."""
    return SourceContext(
        timezone=ZoneInfo(ctx.config.site.timezone),
        http=ctx.http,
        pages=ctx.store,
        max_pages=ctx.config.http.max_pages,
        languages=ctx.config.languages.all,
    )


def next_poll_after_failure(ctx: Context, cfg: SourceConfig, failures: int, exc: Exception) -> datetime:
    """When a failing source is tried again: every, 2×every, 4×every… capped, with jitter; Retry-After wins."""
    delay = min(cfg.every * (2 ** max(0, failures - 1)), ctx.config.http.max_backoff)
    # Jitter spreads sources (and instances) that failed together, so they do not retry in step.
    seconds = delay.total_seconds() * random.uniform(0.9, 1.1)
    retry_after = getattr(exc, "retry_after", None)
    if retry_after is not None:
        # Honoured, but capped too: a server asking for a year of silence gets max_backoff.
        seconds = max(seconds, min(float(retry_after), ctx.config.http.max_backoff.total_seconds()))
    return ctx.clock() + timedelta(seconds=seconds)


def store_item(
    ctx: Context,
    item: ArticleInput | Unchanged,
    seen: dict[str, str],
    report: CycleReport,
    changed: list[int],
    tags: dict[str, str],
    problems: list[Problem],
) -> None:
    """Store one article the source read (or count one it found unchanged, remembering its version tag in
    `tags`); BadItem (or the item's own data error) when it cannot be. What was stored otherwise than the
    source said goes to `problems`."""
    if item.key in seen:
        raise BadItem(f"id {item.key!r} is also used by {seen[item.key]}")
    seen[item.key] = item.origin
    if isinstance(item, Unchanged):
        tags[item.origin] = item.version_tag
        report.unchanged += 1
        return
    if item.date_guessed:
        # A stand-in date must not make a stored article look changed on every poll.
        stored = ctx.store.published_of(item.source, item.key, item.aliases)
        item = replace(item, published=stored) if stored is not None else item
    # The files first: a stored article never refers to a file the store does not hold.
    for file in (item.image_file, *item.body_files):
        if file is not None:
            ctx.store.save_media(file)
    article_id, outcome, kept = ctx.store.store_article(item, content_hash(item), canonical_url(item.url))
    if kept is not None and item.modified is not None:
        # Said with this version of the item only: the next poll finds it unchanged and says nothing.
        problems.append(Problem(item.source, item.origin, _backdated(ctx, item.source, item.modified, kept)))
    attr = "duplicates" if outcome == "duplicate" else outcome
    setattr(report, attr, getattr(report, attr) + 1)
    if item.version_tag and outcome != "duplicate":  # a duplicate is read again: it may win later
        tags[item.origin] = item.version_tag
    if outcome in ("new", "updated"):
        changed.append(article_id)
        log.info("%s article %s from %s", outcome, item.key, item.origin)


def _backdated(ctx: Context, source: str, declared: datetime, kept: datetime) -> str:
    """Why an edit was not dated as its source said, and what to do about it."""
    kind = next((c.kind for c in ctx.config.sources if c.name == source), "")
    fix = (
        "set `updated:` to the time of this edit, or remove it to let the time the file was picked up count"
        if kind == "folder"
        else "the upstream's own date went back; if that is a mistake, the upstream has to fix it"
    )
    return (
        f"this edit declares updated {declared.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}, before the "
        f"{kept:%Y-%m-%dT%H:%M:%SZ} already published for it; feed readers keep the newest date and could skip "
        f"the edit, so it is published as updated when it was picked up ({fix})"
    )


def poll_source(
    ctx: Context,
    cfg: SourceConfig,
    source_ctx: SourceContext,
    failures: int,
    report: CycleReport,
    known: frozenset[str] = frozenset(),
) -> list[int]:
    """Poll one source and store its articles; record its health. Never raises for the source's faults.

    One item that cannot be stored is a Problem naming it; the items after it are stored. Problems already
    reported by the previous poll (`known`) are logged at debug level only: each is logged once.
    """
    changed: list[int] = []
    problems: list[Problem] = []
    seen: dict[str, str] = {}
    # Version tags of the items stored (or found unchanged) this poll: remembered together at the end, so an
    # unchanged drop folder is neither read nor written again.
    tags: dict[str, str] = {}
    try:
        for item in make_source(cfg, source_ctx).poll():
            if isinstance(item, Problem):
                problems.append(item)
                continue
            try:
                store_item(ctx, item, seen, report, changed, tags, problems)
            except Exception as exc:
                if not is_item_fault(exc):
                    raise  # the store itself failed: the poll stops, nothing is marked as read
                log.debug("%s: storing %s failed", cfg.name, item.origin, exc_info=True)
                problems.append(Problem(cfg.name, item.origin, refusal(exc) or item_error(exc)))
    except StoreError:
        raise  # the store failed (a full disk), not the source: no back-off, the cycle stops here
    except Exception as exc:
        # A failing source never stops the others; what it stored before stays. Our own errors explain
        # themselves; anything else is a bug or a parser crash on hostile input, named by its type.
        message = str(exc) if isinstance(exc, SyndicatorError) else f"{type(exc).__name__}: {exc}"
        retry = next_poll_after_failure(ctx, cfg, failures + 1, exc)
        log.error(
            "source %s failed (%d in a row), next try %s UTC: %s",
            cfg.name, failures + 1, f"{retry:%Y-%m-%d %H:%M:%S}", message,
            exc_info=not isinstance(exc, SyndicatorError) or log.isEnabledFor(logging.DEBUG),
        )  # fmt: skip
        notes = [f"{p.origin}: {p.message}" for p in problems]
        ctx.store.record_poll(cfg.name, error=message, problems=notes, next_poll=retry)
        # The tags are not saved: a failed poll did not see every file. What it stored is read once more next
        # time (and found unchanged by the store), then tagged.
        report.problems.append(Problem(cfg.name, cfg.name, message))
        report.announced.add(f"{cfg.name}: {message}")
        return changed
    # One read; a write only when a tag changed or a file went away (a source without files has no tags).
    ctx.store.keep_version_tags(cfg.name, tags)
    for p in problems:
        note = f"{p.origin}: {p.message}"
        if note in known:
            log.debug("%s: %s", p.source, note)
        else:
            log.warning("%s: %s", p.source, note)
            report.announced.add(note)
    report.problems.extend(problems)
    ctx.store.record_poll(cfg.name, problems=[f"{p.origin}: {p.message}" for p in problems])
    return changed
