"""Stage 3, localize and publish: every language's feeds, archives and entry pages, then the root index and
OPML; a language that fails keeps its previous files and the others go on."""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterator, Mapping, Sequence

from syndicator.errors import PublishError
from syndicator.models import CycleReport
from syndicator.partners import shown, visible_versions
from syndicator.pipeline.context import Context
from syndicator.publish.audit import start_up_repairs
from syndicator.publish.empty import why_empty
from syndicator.publish.entries import STYLESHEET_FILE, EntryBuilder, entry_path
from syndicator.publish.media import compressible
from syndicator.publish.precompress import delete_with_copies, write_gzip_copy
from syndicator.publish.publisher import Repairs, publish_language
from syndicator.publish.site import HEADLINES, Headline, LanguageListing, root_files
from syndicator.publish.stylesheet import build_stylesheet

log = logging.getLogger(__name__)

PUBLISH_LOCK = "publish"  # the store lock publishers of one instance take turns on
PUBLISH_LOCK_WAIT = 600.0  # seconds a publisher waits for another before giving up with an error


def publish(
    ctx: Context,
    report: CycleReport,
    *,
    rebuild: bool = False,
    repairs: Mapping[str, Repairs] | None = None,
    languages: Sequence[str] | None = None,
) -> None:
    """Write what changed in every language's feeds (or those of `languages`: the celery runner's publish
    task), archives and entry pages, then the root documents; `rebuild` republishes everything, `repairs`
    (from syndicator verify) rewrites what they name. Unchanged files are left alone. The first publish of a
    context also repairs what start-up finds wrong."""
    with one_publisher(ctx):
        _publish(ctx, report, rebuild, repairs, languages)


@contextlib.contextmanager
def one_publisher(ctx: Context) -> Iterator[None]:
    """Several processes can publish one instance when its store is shared (PostgreSQL: workers' publish
    tasks, standby services, `run --once`, `publish`): they take turns on the store's `publish` lock. On an
    embedded SQLite store the instance lock (syndicator/lock.py) already keeps every other process out."""
    if ctx.config.run.runner == "in-process" and ctx.store.engine.dialect.name == "sqlite":
        yield
        return
    deadline = time.monotonic() + PUBLISH_LOCK_WAIT
    waited = False
    while (lock := ctx.store.try_lock(PUBLISH_LOCK)) is None:
        if time.monotonic() > deadline:
            raise PublishError(
                f"another process has been publishing for {PUBLISH_LOCK_WAIT:.0f}s",
                hint="see which syndicator process is stuck publishing",
            )
        if not waited:
            log.info("waiting for another process to finish publishing")
            waited = True
        time.sleep(0.5)
    try:
        yield
    finally:
        lock.release()


def _publish(
    ctx: Context,
    report: CycleReport,
    rebuild: bool,
    repairs: Mapping[str, Repairs] | None,
    languages: Sequence[str] | None,
) -> None:
    builder = EntryBuilder(ctx.config, ctx.catalogs, glossary=ctx.faithful.glossary)
    failures: list[str] = []
    check, ctx.tree_checked = not ctx.tree_checked, True
    sweep = getattr(ctx.writer, "remove_leftovers", None)
    if check and sweep is not None and (n := sweep()):
        log.info("removed %d temp file(s) left by an interrupted publish", n)
    # A takedown changes what every document of a language holds: republished whole, like a new restriction.
    withdrawn = ",".join(str(i) for i, _ in ctx.store.withdrawals())
    for language in ctx.config.languages.all:
        if languages is not None and language not in languages:
            continue
        try:
            before = len(report.written)
            todo = Repairs()
            if check:
                todo.merge(start_up_repairs(ctx.store, ctx.writer, language, ctx.config.site.feeds_url))
            todo.merge((repairs or {}).get(language, Repairs()))
            _publish_language(ctx, builder, language, report, rebuild, todo, withdrawn)
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
        raise PublishError(error, hint=f"check that {ctx.config.publish.location} is writable")


def _publish_language(
    ctx: Context,
    builder: EntryBuilder,
    language: str,
    report: CycleReport,
    rebuild: bool = False,
    repairs: Repairs | None = None,
    withdrawn: str = "",
) -> None:
    restricted = ctx.restricted()
    xsl = build_stylesheet(language, ctx.catalogs, builder.url(f"{language}/"))
    _write(ctx, f"{language}/{STYLESHEET_FILE}", xsl, report)
    outcome = publish_language(
        ctx.store,
        lambda relpath, data: _write(ctx, relpath, data, report),
        builder,
        language,
        clock=ctx.clock,
        rebuild=rebuild,
        keep=lambda article: shown(article, restricted),
        # Restricted tags change what is public; gzip copies are made as files pass through _write.
        extra_signature=f"{sorted(restricted)}|withdrawn={withdrawn}|gzip={ctx.config.serve.gzip_files}",
        tree=ctx.writer,
        repairs=repairs,
        delete=lambda relpath: _delete(ctx, relpath, report),
    )
    log.debug("published %s: %s", language, outcome)


def _publish_root(ctx: Context, builder: EntryBuilder, report: CycleReport) -> None:
    restricted = ctx.restricted()
    listings = []
    for language in ctx.config.languages.all:
        channel = builder.channel(language)
        versions = visible_versions(
            ctx.store, language, HEADLINES, lambda article: shown(article, restricted)
        )
        headlines = [
            Headline(translation.title if translation else article.title, entry_path(article, language))
            for article, translation in versions
        ]
        # A language with nothing to show says why, in its language, as its empty feed does.
        reason = (
            "" if headlines else ctx.catalogs.gettext(language, why_empty(ctx.store, ctx.config, language))
        )
        listings.append(LanguageListing(language, channel.title, channel.subtitle, headlines, reason))
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
    if ctx.config.serve.gzip_files and compressible(relpath):
        # Checked when unchanged too: a crash between a file and its copy is mended here.
        write_gzip_copy(ctx.writer, relpath, data, changed=written)
    return written


def _delete(ctx: Context, relpath: str, report: CycleReport) -> bool:
    deleted = delete_with_copies(ctx.writer, relpath)
    if deleted:
        report.deleted.append(relpath)
    return deleted
