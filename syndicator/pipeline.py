"""One cycle, top to bottom: sources → store → translate → localize → publish.

Stages hand each other ids and language codes, never ORM objects, so any stage can later run elsewhere.
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
from collections import defaultdict
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from syndicator.config import Config, SourceConfig
from syndicator.errors import PublishError, SyndicatorError
from syndicator.glossary import load_glossary
from syndicator.http import HttpClient, HttpOptions
from syndicator.localize import Catalogs
from syndicator.models import DONE, FAILED, NO_MODEL, ArticleInput, CycleReport, Problem, Translation
from syndicator.partners import PartnerRegistry, public, visible_versions
from syndicator.progress import BacklogProgress
from syndicator.publish.entries import STYLESHEET_FILE, EntryBuilder, entry_path
from syndicator.publish.publisher import publish_language
from syndicator.publish.site import HEADLINES, Headline, LanguageListing, root_files
from syndicator.publish.stylesheet import build_stylesheet
from syndicator.publish.writer import FeedStore, LocalFolderStore
from syndicator.runner import InProcessRunner, Runner
from syndicator.serve.precompress import write_gzip_copy
from syndicator.sources import SourceContext, make_source
from syndicator.sources.ids import canonical_url
from syndicator.store import Store, utcnow
from syndicator.translate import Engine, EngineOptions, PairTranslator, corrections, make_engine, quality
from syndicator.translate.apertium import install_hint
from syndicator.translate.document import Faithful, translate_articles

log = logging.getLogger(__name__)

ARTICLES_PER_UNIT = 50  # articles per translation unit: big batches, bounded memory
SOURCE_THREADS = 4  # sources polled at the same time in one collect


@dataclass
class Context:
    """Everything a cycle needs; built once per process from a validated Config."""

    config: Config
    store: Store
    writer: FeedStore
    runner: Runner
    catalogs: Catalogs
    engines: dict[str, Engine] = field(default_factory=dict)
    clock: Callable[[], datetime] = utcnow
    faithful: Faithful = field(default_factory=Faithful)  # glossary and protected spans
    # Categories left out of the public feeds (config/partners.toml, re-read when it changes).
    restricted: Callable[[], frozenset[str]] = frozenset
    # Called after every publish with its report and "" or the error: WebSub pings, the server's health.
    publish_listeners: list[Callable[[CycleReport, str], None]] = field(default_factory=list)
    # Whether this context has repaired the queue yet (a new context, e.g. after a reload, does it again).
    queue_checked: bool = False

    def engine_for(self, language: str) -> Engine:
        """The engine configured for a target language (created on first use)."""
        name = self.config.translation.engines.get(language, self.config.translation.engine)
        if name not in self.engines:
            t = self.config.translation
            self.engines[name] = make_engine(
                name,
                EngineOptions(
                    packages_dir=t.packages_dir,
                    data_dir=self.config.root / "data",
                    beam_size=t.beam_size,
                    batch_size=t.batch_size,
                    threads=t.threads,
                    pivot=t.pivot,
                ),
            )
        return self.engines[name]

    def close(self) -> None:
        """Release the store."""
        self.store.close()


def open_context(
    config: Config, *, clock: Callable[[], datetime] = utcnow, runner: Runner | None = None
) -> Context:
    """The context for a config: store, writer, catalogs, runner."""
    ctx = Context(
        config=config,
        store=Store(config.store.url, clock=clock),
        writer=LocalFolderStore(config.publish.feeds_dir),
        runner=runner or InProcessRunner(),
        catalogs=Catalogs(config.locales_dir),
        clock=clock,
        restricted=PartnerRegistry(config.partners_file, config.languages.all).restricted,
        faithful=Faithful(
            glossary=load_glossary(config.root),
            names=config.translation.protect_names,
            tags_language=config.languages.source,
        ),
    )
    if config.serve.hubs:
        from syndicator.serve.websub import publish_listener

        ctx.publish_listeners.append(publish_listener(config))
    return ctx


def content_hash(item: ArticleInput) -> str:
    """What makes an article "changed": every field a reader sees."""
    fields = [item.language, item.title, item.summary, item.body_html, item.author, list(item.tags),
              item.image, item.url, item.published.isoformat()]  # fmt: skip
    return hashlib.sha256(json.dumps(fields, ensure_ascii=False).encode("utf-8")).hexdigest()


# -- 1. sources → store ------------------------------------------------------------------------------------


def source_context(ctx: Context) -> SourceContext:
    """What sources get: the site's time zone, the HTTP client with the [http] limits, the page memory."""
    h = ctx.config.http
    options = HttpOptions(
        connect_timeout=h.connect_timeout,
        read_timeout=h.read_timeout,
        max_bytes=h.max_bytes,
        max_redirects=h.max_redirects,
        retries=h.retries,
        backoff=h.backoff,
        max_wait=h.max_wait,
        contact=ctx.config.site.link,
    )
    return SourceContext(
        timezone=ZoneInfo(ctx.config.site.timezone),
        http=HttpClient(options),
        pages=ctx.store,
        max_pages=h.max_pages,
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
        failures = int(states.get(cfg.name, {}).get("failures", 0))
        return _poll_source(ctx, cfg, source_ctx, failures, part), part

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
    for article in ctx.store.articles(changed) if changed else []:
        targets = [lang for lang in ctx.config.languages.all if lang != article.language]
        ctx.store.ensure_pending(article, targets)
    if not ctx.queue_checked:
        _check_queue(ctx)
        ctx.queue_checked = True
    return changed


def _check_queue(ctx: Context) -> None:
    """Once per context: repair what a crash or a config change left unqueued (each scans the store)."""
    # A crash between storing an update and queueing it would leave old translations marked done.
    if stale := ctx.store.requeue_stale():
        log.info("queued %d translation(s) of updated articles again", stale)
    queued = ctx.store.ensure_languages(ctx.config.languages.all)
    if queued:
        log.info("queued %d translation(s) for newly configured languages", queued)


def _poll_source(
    ctx: Context, cfg: SourceConfig, source_ctx: SourceContext, failures: int, report: CycleReport
) -> list[int]:
    """Poll one source and store its articles; record its health. Never raises for the source's faults."""
    changed: list[int] = []
    problems: list[Problem] = []
    seen: dict[str, str] = {}
    try:
        for item in make_source(cfg, source_ctx).poll():
            if isinstance(item, Problem):
                problems.append(item)
                continue
            if item.key in seen:
                problems.append(
                    Problem(cfg.name, item.origin, f"id {item.key!r} is also used by {seen[item.key]}")
                )
                continue
            seen[item.key] = item.origin
            if item.date_guessed:
                # A stand-in date must not make a stored article look changed on every poll.
                stored = ctx.store.published_of(item.source, item.key)
                item = replace(item, published=stored) if stored is not None else item
            article_id, outcome = ctx.store.upsert_article(item, content_hash(item), canonical_url(item.url))
            attr = "duplicates" if outcome == "duplicate" else outcome
            setattr(report, attr, getattr(report, attr) + 1)
            if outcome in ("new", "updated"):
                changed.append(article_id)
                log.info("%s article %s from %s", outcome, item.key, item.origin)
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
        report.problems.append(Problem(cfg.name, cfg.name, message))
        return changed
    for p in problems:
        log.warning("%s: %s: %s", p.source, p.origin, p.message)
    report.problems.extend(problems)
    ctx.store.record_poll(cfg.name, problems=[f"{p.origin}: {p.message}" for p in problems])
    return changed


# -- 2. translate --------------------------------------------------------------------------------------------


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
    except Exception as exc:  # an engine crash fails this unit only; the rest of the cycle goes on
        log.error(
            "translating %s → %s failed: %s", unit.source, unit.target, exc, exc_info=log.isEnabledFor(10)
        )
        results = None
        crash = f"{type(exc).__name__}: {exc}"
    by_id = {a.id: a for a in articles}
    t = ctx.config.translation
    bounds = quality.Bounds(t.length_ratio, t.length_ratio_to_cjk, t.length_ratio_from_cjk)
    for i, article in enumerate(articles):
        res = results[i] if results is not None else None
        if res is not None and not res.error:
            # Never publish damage as if it were fine: a gate failure is retried later, with backoff.
            res.error = quality.check(
                [quality.Field("title", article.title, res.title),
                 quality.Field("summary", article.summary, res.summary),
                 quality.Field("body", article.body_html, res.body_html, html=True)],
                unit.source, unit.target, bounds,
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


def translate(ctx: Context, report: CycleReport) -> None:
    """Translate everything pending, one unit per language pair (and per 50 articles)."""
    apply_corrections(ctx, report)
    _retry_newly_covered(ctx, report)
    retried = ctx.store.retry_due()
    if retried:
        log.info("retrying %d failed translation(s)", retried)
    units = plan(ctx)
    totals: dict[str, int] = defaultdict(int)
    for u in units:
        totals[u.target] += len(u.article_ids)
    progress = BacklogProgress(totals)

    def work(u: Unit) -> dict[str, int]:
        outcome = run_unit(ctx, u)
        progress.advance(u.target, len(u.article_ids))
        return outcome

    try:
        outcomes = ctx.runner.map(work, units)
    finally:
        progress.close()
    for unit, outcome in zip(units, outcomes, strict=True):
        for status, attr in ((DONE, "translated"), (FAILED, "failed"), (NO_MODEL, "no_model")):
            if outcome[status]:
                counts = getattr(report, attr)
                counts[unit.target] = counts.get(unit.target, 0) + outcome[status]
    for lang, n in sorted(report.no_model.items()):
        log.warning("%s: %d article(s) wait for a translation model (see: syndicator models list)", lang, n)


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


# -- 3. localize and publish ---------------------------------------------------------------------------------


def publish(ctx: Context, report: CycleReport, *, rebuild: bool = False) -> None:
    """Write what changed in every language's feeds, archives and entry pages, then the root documents;
    `rebuild` republishes everything. Unchanged files are left alone."""
    builder = EntryBuilder(ctx.config, ctx.catalogs, glossary=ctx.faithful.glossary)
    failures: list[str] = []
    for language in ctx.config.languages.all:
        try:
            before = len(report.written)
            _publish_language(ctx, builder, language, report, rebuild)
            ctx.store.record_publish(language, len(report.written) - before)
        except (OSError, PublishError) as exc:
            # The previous files stay whole (the writer replaces files atomically); the other languages go on.
            failures.append(f"{language}: {exc}")
            log.error("publishing %s failed: %s", language, exc)
            ctx.store.set_state(
                f"publish_error:{language}", str(exc)
            )  # `status` shows it until a publish works
    try:
        _publish_root(ctx, builder, report)
    except (OSError, PublishError) as exc:
        failures.append(f"index: {exc}")
        log.error("publishing the index failed: %s", exc)
    error = "; ".join(failures)
    for listener in ctx.publish_listeners:
        listener(report, error)
    if failures:
        raise PublishError(error, hint=f"check that {ctx.config.publish.feeds_dir} is writable")


def _publish_language(
    ctx: Context, builder: EntryBuilder, language: str, report: CycleReport, rebuild: bool = False
) -> None:
    restricted = ctx.restricted()
    _write(ctx, f"{language}/{STYLESHEET_FILE}", build_stylesheet(language, ctx.catalogs), report)
    outcome = publish_language(
        ctx.store,
        lambda relpath, data: _write(ctx, relpath, data, report),
        builder,
        language,
        clock=ctx.clock,
        rebuild=rebuild,
        keep=lambda tags: public(tags, restricted),
        # Restricted tags change what is public; gzip copies are made as files pass through _write.
        extra_signature=f"{sorted(restricted)}|gzip={ctx.config.serve.gzip_files}",
    )
    log.debug("published %s: %s", language, outcome)


def _publish_root(ctx: Context, builder: EntryBuilder, report: CycleReport) -> None:
    restricted = ctx.restricted()
    listings = []
    for language in ctx.config.languages.all:
        channel = builder.channel(language)
        versions = visible_versions(ctx.store, language, HEADLINES, lambda tags: public(tags, restricted))
        headlines = [
            Headline(translation.title if translation else article.title, entry_path(article, language))
            for article, translation in versions
        ]
        listings.append(LanguageListing(language, channel.title, channel.subtitle, headlines))
    site = ctx.config.site
    files = root_files(
        ctx.config.languages.source, site.title, site.feeds_url, site.link, listings, ctx.catalogs
    )
    for name, data in files.items():
        _write(ctx, name, data, report)


def _write(ctx: Context, relpath: str, data: bytes, report: CycleReport) -> bool:
    written = ctx.writer.write(relpath, data)
    if written:
        report.written.append(relpath)
    if ctx.config.serve.gzip_files and (written or ctx.writer.read(relpath + ".gz") is None):
        write_gzip_copy(ctx.writer, relpath, data)
    return written


def run_cycle(ctx: Context) -> CycleReport:
    """Poll every source, translate what is pending, publish."""
    report = CycleReport()
    collect(ctx, report)
    translate(ctx, report)
    publish(ctx, report)
    return report
