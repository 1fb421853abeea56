"""Stage 3, localize and publish: every language's feeds, archives and entry pages, then the root index and
OPML; a language that fails keeps its previous files and the others go on."""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterator, Sequence

from syndicator.errors import PublishError
from syndicator.models import CycleReport
from syndicator.partners import public, visible_versions
from syndicator.pipeline.context import Context
from syndicator.publish.entries import STYLESHEET_FILE, EntryBuilder, entry_path
from syndicator.publish.precompress import write_gzip_copy
from syndicator.publish.publisher import publish_language
from syndicator.publish.site import HEADLINES, Headline, LanguageListing, root_files
from syndicator.publish.stylesheet import build_stylesheet

log = logging.getLogger(__name__)

PUBLISH_LOCK = "publish"  # the store lock publishers of one instance take turns on
PUBLISH_LOCK_WAIT = 600.0  # seconds a publisher waits for another before giving up with an error


def publish(
    ctx: Context, report: CycleReport, *, rebuild: bool = False, languages: Sequence[str] | None = None
) -> None:
    """Write what changed in every language's feeds (or those of `languages`: the celery runner's publish
    task), archives and entry pages, then the root documents; `rebuild` republishes everything. Unchanged
    files are left alone."""
    with one_publisher(ctx):
        _publish(ctx, report, rebuild, languages)


@contextlib.contextmanager
def one_publisher(ctx: Context) -> Iterator[None]:
    """With the celery runner several processes can publish (workers' publish tasks, `run --once`,
    `publish`): they take turns on the store's `publish` lock. In-process, this process is the only one."""
    if ctx.config.run.runner == "in-process":
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


def _publish(ctx: Context, report: CycleReport, rebuild: bool, languages: Sequence[str] | None) -> None:
    builder = EntryBuilder(ctx.config, ctx.catalogs, glossary=ctx.faithful.glossary)
    failures: list[str] = []
    for language in ctx.config.languages.all:
        if languages is not None and language not in languages:
            continue
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
