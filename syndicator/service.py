"""The long-running service (`syndicator run`): the pipeline's stages run as the scheduler's jobs, the feeds
served beside them, config edits put in force, and a clean stop.

The scheduler (scheduler.py) decides when; this module owns what runs: the translation runner, the engines,
the built-in server, live reload, the folder watcher (watcher.py: a file dropped is polled at once), the
service's record in the store, and the signal handlers.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import threading
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from types import FrameType
from typing import Any

from syndicator.config import Config, forget_config_in_force, record_config_in_force
from syndicator.errors import SyndicatorError
from syndicator.leadership import Leadership
from syndicator.models import CycleReport
from syndicator.pipeline import Context, collect, execute_unit, publish, rebuild_context, translate
from syndicator.pipeline.units import ARTICLES_PER_UNIT
from syndicator.publish.writer import writer_settings
from syndicator.runner import Abandoned, Runner, make_runner
from syndicator.scheduler import PICKUP_DEBOUNCE, Scheduler
from syndicator.serve.server import start_in_background
from syndicator.sources.folder import is_watched_file
from syndicator.translate.corrections import is_correction_file
from syndicator.watcher import Folder, FolderWatcher

log = logging.getLogger(__name__)
# New or changed articles translated and published before the backlog: at most one unit's worth.
NEWS_FIRST = ARTICLES_PER_UNIT

SLOT_TOLERANCE = timedelta(seconds=1)  # clocks and timers are not exact: a poll this early still counts
CORRECTIONS = "corrections"  # the watched corrections folder's key (sources' folders are "source:<name>")
SOURCE_PREFIX = "source:"


def watched_folders(config: Config) -> list[Folder]:
    """The folders to watch for `config`: each enabled folder source's, and the corrections folder."""
    if not config.run.watch:
        return []
    settle = config.run.settle.total_seconds()
    folders = [
        # Resolved: the kernel reports events under the real path, which accepts() compares with.
        Folder(SOURCE_PREFIX + cfg.name, Path(os.path.realpath(cfg.options["path"])), is_watched_file,
               recursive=True, settle=settle)
        for cfg in config.sources
        if cfg.enabled and cfg.kind == "folder" and cfg.options.get("watch", True)
    ]  # fmt: skip
    corrections = Path(os.path.realpath(config.translation.corrections_dir))
    folders.append(Folder(CORRECTIONS, corrections, is_correction_file, recursive=True, settle=settle))
    return folders


def _relative(path: Path, folder: Path) -> str:
    """A picked-up file as editors know it: relative to its folder (its real path when not under it)."""
    for base in (folder, Path(os.path.realpath(folder))):
        if path.is_relative_to(base):
            return path.relative_to(base).as_posix()
    return str(path)


class Service:
    """Polls sources on schedule; translates and publishes after new work; follows config edits."""

    def __init__(self, ctx: Context, *, overrides: dict[str, str] | None = None, watch: bool = True) -> None:
        self.ctx = ctx  # replaced whole on reload; every job reads it once when it starts
        self.overrides = dict(overrides or {})  # --set options: part of the config in force it records
        self.runner = self._make_runner(ctx.config)
        ctx.runner = self.runner
        self.stopping = threading.Event()
        self.scheduler = self._new_scheduler()
        # Who polls and schedules among several `syndicator run` sharing the store (leadership.py).
        self.leadership = Leadership(
            ctx.store, ctx.config.run.failover, lead=self._lead, follow=self._follow, stopping=self.stopping
        )
        self.identity = f"{socket.gethostname()}:{os.getpid()}"
        # Schedulers can hand over only on a store that several machines share (PostgreSQL); an embedded
        # store has one service, which polls every source at start as it always did.
        self.shared_store = ctx.store.backend == "postgresql"
        self._term = threading.Lock()  # taking over and stepping down never overlap
        self._corrections_seen: list[tuple[str, int, int]] | None = None
        self._withdrawn_seen: list[tuple[int, datetime]] | None = None  # takedowns seen by housekeeping
        # Articles new or changed since the last pass: translated and published before any older backlog.
        self._fresh: set[int] = set()
        self._fresh_lock = threading.Lock()
        self._corrections_waiting = threading.Event()  # the watcher saw a corrections file change
        # One publish at a time in this process: a pickup publishes its article's own language from the poll
        # thread while a pass may be translating (or publishing) on the process thread.
        self._publishing = threading.Lock()
        self.watcher = FolderWatcher(self.files_changed) if watch else None
        self._server: Any = None
        self.reloader: Any = None
        if watch:
            from syndicator.reload import Reloader

            self.reloader = Reloader(ctx.config.file, overrides or {}, self.apply_config, ctx.config.root)

    def _new_scheduler(self) -> Scheduler:
        return Scheduler(
            poll=self.poll, one_pass=self.one_pass, housekeeping=self.work_due, stopping=self.stopping
        )

    def _make_runner(self, config: Config) -> Runner:
        # Units execute with whatever context is current when they start (a reload replaces it).
        return make_runner(config, lambda unit: execute_unit(self.ctx, unit), config.translation.workers)

    # -- what the jobs do ---------------------------------------------------------------------------------

    def poll(self, name: str, pickup: bool = False) -> bool:
        """Poll one source; True when it brought new or changed articles. `pickup`: out of schedule, because
        its watched folder changed."""
        # Polls of different sources run side by side: the store serializes their writes (an upsert lock and
        # BEGIN IMMEDIATE transactions), so a slow source delays no other.
        ctx = self.ctx
        cfg = next((c for c in ctx.config.sources if c.name == name), None)
        if cfg is None:
            return False
        # Take this slot's poll in the store first: a scheduler that took over (or one that lost its lock
        # and has not noticed yet) finds the slot taken and skips it. Polls are `every` apart, less jitter.
        # A pickup takes no slot: it answers a file event only the leader acts on, and must not shift the
        # rhythm a scheduler taking over carries on.
        gap = timedelta(0)
        if self.shared_store:
            gap = max(gap, cfg.every - (cfg.jitter or timedelta(0)) - SLOT_TOLERANCE)
        try:
            if not pickup and not ctx.store.start_poll(name, gap, self.identity):
                log.info("source %s: already polled in this slot (another scheduler); skipped", name)
                return False
            changed = collect(ctx, CycleReport(), [name])
            with self._fresh_lock:
                self._fresh.update(changed)
            if pickup and changed and ctx.config.run.runner == "in-process":
                self._publish_originals(ctx, changed)
            return bool(changed)
        except SyndicatorError as exc:
            log.error("polling %s failed: %s", name, exc)
        except Exception:  # a bug in one source must not kill its schedule
            log.exception("polling %s crashed", name)
        return False

    def work_due(self) -> bool:
        """True when failed translations are due for a retry, the corrections folder changed, or an article was
        taken down or put back (`syndicator withdraw`, from another process): the next pass republishes."""
        ctx = self.ctx
        folder = ctx.config.translation.corrections_dir
        try:
            signature = sorted((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in folder.rglob("*.md"))
            due = ctx.store.retries_due()
            withdrawn = ctx.store.withdrawals()
        except (OSError, SyndicatorError) as exc:
            log.error("housekeeping failed: %s", exc)
            return False
        changed, self._corrections_seen = signature != self._corrections_seen, signature
        taken_down = self._withdrawn_seen is not None and withdrawn != self._withdrawn_seen
        self._withdrawn_seen = withdrawn
        return bool(due or changed or taken_down)

    def files_changed(self, key: str, paths: list[Path]) -> None:
        """The watcher's news (on its thread): settled files in a drop folder or the corrections folder."""
        if self.stopping.is_set() or not self.leadership.leading:
            return  # a standby: the scheduler in charge watches too
        if key == CORRECTIONS:
            folder, where = self.ctx.config.translation.corrections_dir, "corrections"
        else:
            name = key.removeprefix(SOURCE_PREFIX)
            cfg = next((c for c in self.ctx.config.sources if c.name == name), None)
            if cfg is None:
                return  # removed by a reload meanwhile
            folder, where = Path(cfg.options["path"]), f"drop folder {name}"
        for path in paths:
            shown = _relative(path, folder)
            if path.exists():
                log.info("%s: picked up %s", where, shown)
            elif key == CORRECTIONS:
                log.info("%s: %s was removed", where, shown)
            else:
                # Feeds keep what they published: a file cleared away after publishing is not a takedown.
                log.info(
                    "%s: %s was removed; its article stays published (to take it down: syndicator withdraw %s ID)",
                    where, shown, key.removeprefix(SOURCE_PREFIX),
                )  # fmt: skip
        if key == CORRECTIONS:
            self._corrections_waiting.set()  # a backlog pass gives way: the next pass applies them first
            self.scheduler.request_processing(PICKUP_DEBOUNCE)
        else:
            self.scheduler.poll_soon(key.removeprefix(SOURCE_PREFIX))

    def _publish(self, ctx: Context, report: CycleReport, languages: list[str] | None = None) -> None:
        with self._publishing:
            publish(ctx, report, languages=languages)

    def _publish_originals(self, ctx: Context, ids: list[int]) -> None:
        """Publish the languages the picked-up articles are written in, at once: their feeds need no
        translation, so they wait for no backlog either (translations follow in the next pass)."""
        languages = sorted({a.language for a in ctx.store.articles(ids)})
        report = CycleReport()
        try:
            self._publish(ctx, report, languages)
        except SyndicatorError as exc:
            log.error("publishing %s failed: %s", ", ".join(languages), exc)
            return
        log.info("published %s: %d file(s) changed", ", ".join(languages), len(report.written))

    def _take_fresh(self) -> set[int]:
        with self._fresh_lock:
            fresh, self._fresh = self._fresh, set()
        return fresh

    def _has_fresh(self) -> bool:
        with self._fresh_lock:
            return bool(self._fresh)

    def _news_waiting(self) -> bool:
        """Whether a pass under way should give way: new articles, or an editor's correction, wait."""
        with self._fresh_lock:
            return bool(self._fresh) or self._corrections_waiting.is_set()

    def one_pass(self) -> bool:
        """Translate and publish once; True when work may be left (translation was interrupted, or news went
        first), so the scheduler goes round again.

        News first: articles new or changed since the last pass have their own language's feed published at
        once, then only their translations are run, then every language is published; the backlog waits for
        the next round. A backlog pass gives way when news arrives: the units not started wait."""
        ctx = self.ctx
        report = CycleReport()
        left = False
        in_process = ctx.config.run.runner == "in-process"
        # Taken whatever the runner, so the set never grows: news-first ordering is the in-process runner's
        # (Celery workers take the queues in their own order).
        fresh = self._take_fresh()
        if not in_process:
            fresh = set()
        if len(fresh) > NEWS_FIRST:
            # A backlog arrived at once (a first poll, an archive dropped in): its latest articles go first and
            # are published; the rest is translated as backlog, which gives way to the next dropped file.
            fresh = set(sorted(fresh)[-NEWS_FIRST:])
        if not fresh:
            self._corrections_waiting.clear()  # this pass applies them (translate's first step)
        log.info("processing: %d translation(s) pending", len(ctx.store.pending()))
        for language in ctx.config.languages.targets:
            ctx.engine_for(language)  # create engines here, once: workers asking together would each make one
        if fresh:
            originals = sorted({a.language for a in ctx.store.articles(fresh)})
            log.info("%d new or changed article(s) first: publishing %s", len(fresh), ", ".join(originals))
            try:
                self._publish(ctx, report, originals)
            except SyndicatorError as exc:
                log.error("publishing failed: %s", exc)
        # Newer news still goes first, even before a big drop (a whole archive at once); a backlog pass also
        # gives way to an editor's correction.
        interrupt = (self._has_fresh if fresh else self._news_waiting) if in_process else None
        try:
            left = translate(ctx, report, only=fresh or None, interrupt=interrupt)
            if left:
                log.info("translation paused for new articles or corrections; the rest goes on after them")
        except Abandoned as exc:
            # Queued units stay pending in the store; a restart or the next pass redoes them.
            log.info("translation interrupted: %s", exc)
            left = True
        except SyndicatorError as exc:
            log.error("translation failed: %s", exc)
        left = left or bool(fresh)  # after the news, the backlog (if any)
        if self.runner.request_publish(ctx.config.languages.all):
            # Publishing runs where the feed writer is (the runner's publish task, debounced).
            log.info(
                "translated: %s; queued: %s; publishing requested",
                report.per_language(report.translated), report.per_language(report.queued),
            )  # fmt: skip
            return left
        try:
            self._publish(ctx, report)
        except SyndicatorError as exc:
            log.error("publishing failed: %s", exc)
            return left
        log.info(
            "published: %d file(s) changed; translated: %s",
            len(report.written), report.per_language(report.translated),
        )  # fmt: skip
        return left

    def request_processing(self) -> None:
        """Schedule one translate-and-publish pass soon; many requests make one pass."""
        self.scheduler.request_processing()

    # -- sources and config ---------------------------------------------------------------------------------

    def schedule_sources(self, config: Config, old: Config | None = None) -> None:
        """Make the jobs match the config, and record each source's schedule for `syndicator status`.

        On a shared store a new term starts each source one interval after its last recorded poll (at once if
        that is past): a scheduler taking over from another carries on its rhythm instead of polling
        everything again."""
        first: dict[str, datetime] = {}
        if old is None and self.shared_store:
            states = self.ctx.store.source_states()
            for cfg in config.sources:
                started = states.get(cfg.name, {}).get("poll_started")
                if started is not None:
                    first[cfg.name] = started + cfg.every
        for name, text in self.scheduler.schedule_sources(config, old, first_runs=first).items():
            self.ctx.store.set_state(f"schedule:{name}", text)

    def apply_config(self, new: Config) -> None:
        """Put a validated config in force without a restart (the Reloader calls this)."""
        old = self.ctx
        if (new.run.runner, new.run.broker) != (old.config.run.runner, old.config.run.broker):
            log.warning(
                "run.runner and run.broker take effect after a restart (still %s)", old.config.run.runner
            )
            new = replace(
                new, run=replace(new.run, runner=old.config.run.runner, broker=old.config.run.broker)
            )
        if new.translation.workers != old.config.translation.workers:
            previous, self.runner = self.runner, self._make_runner(new)
            previous.shutdown(wait=False)  # its queued units stay pending; the next pass takes them
            log.info("translation workers: %d", new.translation.workers)
        self.ctx = rebuild_context(old, new, self.runner)
        record_config_in_force(new, self.overrides)  # what read-only commands use if the file breaks later
        self._reconfigure_server(old.config, new)
        if self.watcher is not None and not self.stopping.is_set():
            self.watcher.update(watched_folders(new))  # folders added, moved or removed; settle changed
        with self._term:
            if not self.leadership.leading:
                return  # a standby: the scheduler in charge follows its own copy of the edit
            self.schedule_sources(new, old.config)
            queued = self.ctx.store.ensure_languages(new.languages.all)
            if queued:
                log.info("queued %d translation(s) for newly configured languages", queued)
            self.request_processing()  # titles, languages or limits may have changed: republish

    def _reconfigure_server(self, old: Config, new: Config) -> None:
        """Languages and site links take effect in the running server; its socket and cache need a restart."""
        if self._server is None:
            return
        if (new.serve, writer_settings(new)) != (old.serve, writer_settings(old)):
            log.warning(
                "[serve] and publish.target/feeds_dir changes reach the built-in server after a restart"
            )
            return
        self._server.config = new
        self._server.app.config = new

    # -- life cycle --------------------------------------------------------------------------------------------

    def start(self) -> None:
        """Start the jobs (and the config watcher) in background threads."""
        if self.reloader is not None:
            self.reloader.forget()  # started from a valid config: an old rejection no longer applies
        self.ctx.store.set_state("service", json.dumps({"pid": os.getpid(), "host": socket.gethostname()}))
        # The config this process runs on, beside the store: `status` and the other read-only commands use it
        # while the file on disk holds an edit that was rejected (docs/operations.md).
        record_config_in_force(self.ctx.config, self.overrides)
        if self.reloader is not None:
            self.reloader.start()
        if self.watcher is not None:
            self.watcher.update(watched_folders(self.ctx.config))
        self._server = start_in_background(self.ctx)  # serves feeds/ while the jobs run (serve.enabled)
        # Lead at once when no other process schedules (always, for a lone service); else wait as a standby.
        self.leadership.start()
        log.info("running: %d source(s); Ctrl-C or SIGTERM stops", len(self.ctx.config.sources))

    def _lead(self) -> None:
        """This process now holds the scheduler lock: schedule the sources and process what is waiting."""
        with self._term:
            if self.stopping.is_set():
                return
            self.schedule_sources(self.ctx.config)
            # Publish at start too: feeds reflect the store even when no source has news, and a publish cut
            # short by a crash is redone.
            self.request_processing()
            self.scheduler.start()
            since = self.ctx.clock().isoformat(timespec="seconds")
            self.ctx.store.set_state("scheduler", json.dumps({"by": self.identity, "since": since}))

    def _follow(self) -> None:
        """The scheduler lock is lost: stop polling and scheduling; work under way finishes."""
        with self._term:
            self.scheduler.shutdown()
            if not self.scheduler.wait_idle(self.ctx.config.run.stop_timeout.total_seconds()):
                log.warning("stepping down: work under way did not finish in run.stop_timeout")
            self.scheduler = self._new_scheduler()  # the next term starts afresh

    def stop(self) -> bool:
        """Stop taking work, let work under way finish for run.stop_timeout; False if some was abandoned."""
        self.stopping.set()
        timeout = self.ctx.config.run.stop_timeout.total_seconds()
        log.info("stopping: work under way has %.0fs to finish", timeout)
        if self.reloader is not None:
            self.reloader.stop()
        if self.watcher is not None:
            self.watcher.stop()
        self.scheduler.shutdown()  # no new jobs fire
        self.runner.shutdown(wait=False)  # queued translation units are dropped: they stay pending
        if self._server is not None:
            self._server.stop()
        clean = self.scheduler.wait_idle(timeout)
        self.leadership.release()  # only now may a standby start polling
        forget_config_in_force(self.ctx.config.root)  # no config is in force once this process ends
        if clean:
            self.ctx.store.set_state("service", "")
            log.info("stopped cleanly")
        else:
            log.warning(
                "stop timeout (%.0fs) reached: abandoning work under way; it is redone on restart", timeout
            )
        return clean

    def run(self, install_signals: bool = True) -> bool:
        """Run until Ctrl-C or SIGTERM; True when everything under way finished in time."""
        if install_signals and threading.current_thread() is threading.main_thread():
            self._install_signals()
        self.start()
        try:
            while not self.stopping.wait(1.0):
                pass
        except KeyboardInterrupt:
            log.info("interrupted")
        return self.stop()

    def _install_signals(self) -> None:
        def on_signal(signum: int, _frame: FrameType | None) -> None:
            log.info("received %s", signal.Signals(signum).name)
            self.stopping.set()

        handler: Callable[[int, FrameType | None], None] = on_signal
        signal.signal(signal.SIGTERM, handler)
        signal.signal(signal.SIGINT, handler)
