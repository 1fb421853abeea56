"""APScheduler jobs that decide *when*: each source on its own interval, processing after new work.

Threads: polls run on the scheduler's default pool; translate-and-publish passes on a pool of one thread of
their own ("process"), which hands translation units to a ThreadPoolRunner. So a long backlog keeps at most
the process thread and the translation workers busy, and polls still fire on time.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime, timedelta
from types import FrameType
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from syndicator.config import Config, SourceConfig, format_duration
from syndicator.errors import SyndicatorError
from syndicator.models import CycleReport
from syndicator.pipeline import Context, collect, publish, translate
from syndicator.runner import Abandoned, ThreadPoolRunner
from syndicator.serve.server import start_in_background

log = logging.getLogger(__name__)

DEBOUNCE = timedelta(seconds=2)  # let several sources' news arrive before one translate-and-publish pass
POLL_THREADS = 10
HOUSEKEEPING = 60.0  # seconds between checks for due retries and changed corrections


def source_job_id(name: str) -> str:
    """The scheduler job id of a source."""
    return f"source:{name}"


def _trigger(cfg: SourceConfig) -> IntervalTrigger:
    jitter = (cfg.jitter or timedelta(0)).total_seconds()
    return IntervalTrigger(seconds=cfg.every.total_seconds(), jitter=jitter or None)


def _schedule_text(cfg: SourceConfig) -> str:
    return f"every {format_duration(cfg.every)}, jitter {format_duration(cfg.jitter or timedelta(0))}"


class Service:
    """Polls sources on schedule; translates and publishes after new work; follows config edits."""

    def __init__(self, ctx: Context, *, overrides: dict[str, str] | None = None, watch: bool = True) -> None:
        self.runner = ThreadPoolRunner(ctx.config.translation.workers)
        ctx.runner = self.runner
        self.ctx = ctx  # replaced whole on reload; every job reads it once when it starts
        self.scheduler = BackgroundScheduler(
            timezone=UTC,
            executors={"default": ThreadPoolExecutor(POLL_THREADS), "process": ThreadPoolExecutor(1)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
        )
        self.stopping = threading.Event()
        self._dirty = threading.Event()
        self._processing = threading.Lock()
        self._busy = 0
        self._idle = threading.Condition()
        self._corrections_seen: list[tuple[str, int, int]] | None = None
        self._server: Any = None
        self.reloader: Any = None
        if watch:
            from syndicator.reload import Reloader

            self.reloader = Reloader(ctx.config.file, overrides or {}, self.apply_config, ctx.config.root)

    # -- jobs ---------------------------------------------------------------------------------------------

    @contextmanager
    def _job(self) -> Iterator[None]:
        with self._idle:
            self._busy += 1
        try:
            yield
        finally:
            with self._idle:
                self._busy -= 1
                self._idle.notify_all()

    def poll(self, name: str) -> None:
        """Poll one source; ask for processing when it brought new or changed articles."""
        if self.stopping.is_set():
            return
        # Polls of different sources run side by side: the store serializes their writes (an upsert lock and
        # BEGIN IMMEDIATE transactions), so a slow source delays no other.
        with self._job():
            ctx = self.ctx
            try:
                changed = collect(ctx, CycleReport(), [name])
            except SyndicatorError as exc:
                log.error("polling %s failed: %s", name, exc)
                return
            except Exception:  # a bug in one source must not kill its schedule
                log.exception("polling %s crashed", name)
                return
        if changed:
            self.request_processing()

    def request_processing(self) -> None:
        """Schedule one translate-and-publish pass soon; many requests make one pass."""
        self._dirty.set()  # set before scheduling: a pass that is ending re-checks it (see process)
        if self.stopping.is_set():
            return
        self.scheduler.add_job(
            self.process,
            id="process",
            name="translate and publish",
            executor="process",
            replace_existing=True,
            next_run_time=datetime.now(UTC) + DEBOUNCE,
        )

    def housekeeping(self) -> None:
        """Ask for processing when failed translations are due for a retry or the corrections folder changed."""
        ctx = self.ctx
        folder = ctx.config.translation.corrections_dir
        try:
            signature = sorted((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in folder.rglob("*.md"))
            due = ctx.store.retries_due()
        except (OSError, SyndicatorError) as exc:
            log.error("housekeeping failed: %s", exc)
            return
        changed, self._corrections_seen = signature != self._corrections_seen, signature
        if due or changed:
            self.request_processing()

    def process(self) -> None:
        """Translate and publish until no new work arrived meanwhile."""
        if not self._processing.acquire(blocking=False):
            return  # the running pass sees the dirty flag and goes round again
        try:
            with self._job():
                while self._dirty.is_set() and not self.stopping.is_set():
                    self._dirty.clear()
                    self._one_pass()
        finally:
            self._processing.release()
        # A request that came between the last check and the release found the lock taken: serve it now.
        if self._dirty.is_set() and not self.stopping.is_set():
            self.request_processing()

    def _one_pass(self) -> None:
        ctx = self.ctx
        report = CycleReport()
        log.info("processing: %d translation(s) pending", len(ctx.store.pending()))
        for language in ctx.config.languages.targets:
            ctx.engine_for(language)  # create engines here, once: workers asking together would each make one
        try:
            translate(ctx, report)
        except Abandoned as exc:
            # Queued units stay pending in the store; a restart or the next pass redoes them.
            log.info("translation interrupted: %s", exc)
            if not self.stopping.is_set():
                self._dirty.set()
        except SyndicatorError as exc:
            log.error("translation failed: %s", exc)
        try:
            publish(ctx, report)
        except SyndicatorError as exc:
            log.error("publishing failed: %s", exc)
            return
        log.info("published: %d file(s) changed; translated %s", len(report.written), report.translated)

    # -- sources and config ---------------------------------------------------------------------------------

    def schedule_sources(self, config: Config, old: Config | None = None) -> None:
        """Make the jobs match the config: add new sources, stop removed ones, reschedule changed intervals."""
        now = datetime.now(UTC)
        before = {c.name: c for c in (old.sources if old else ()) if c.enabled}
        after = {c.name: c for c in config.sources if c.enabled}
        store = self.ctx.store
        for name in before.keys() - after.keys():
            with suppress(JobLookupError):
                self.scheduler.remove_job(source_job_id(name))
            store.set_state(f"schedule:{name}", "")
            log.info("source %s: stopped", name)
        for name, cfg in after.items():
            prev = before.get(name)
            if prev is None:
                self.scheduler.add_job(
                    self.poll,
                    _trigger(cfg),
                    args=[name],
                    id=source_job_id(name),
                    name=f"poll {name}",
                    next_run_time=now,
                    replace_existing=True,
                )
                if old is not None:
                    log.info("source %s: scheduled, %s", name, _schedule_text(cfg))
            elif (prev.every, prev.jitter) != (cfg.every, cfg.jitter):
                self.scheduler.reschedule_job(source_job_id(name), trigger=_trigger(cfg))
                log.info("source %s: rescheduled, %s", name, _schedule_text(cfg))
            store.set_state(f"schedule:{name}", _schedule_text(cfg))

    def apply_config(self, new: Config) -> None:
        """Put a validated config in force without a restart (the Reloader calls this)."""
        from syndicator.reload import rebuild_context

        old = self.ctx
        if new.translation.workers != old.config.translation.workers:
            previous, self.runner = self.runner, ThreadPoolRunner(new.translation.workers)
            previous.shutdown(wait=False)  # its queued units stay pending; the next pass takes them
            log.info("translation workers: %d", new.translation.workers)
        self.ctx = rebuild_context(old, new, self.runner)
        self._reconfigure_server(old.config, new)
        self.schedule_sources(new, old.config)
        queued = self.ctx.store.ensure_languages(new.languages.all)
        if queued:
            log.info("queued %d translation(s) for newly configured languages", queued)
        self.request_processing()  # titles, languages or limits may have changed: republish

    def _reconfigure_server(self, old: Config, new: Config) -> None:
        """Languages and site links take effect in the running server; its socket and cache need a restart."""
        if self._server is None:
            return
        if (new.serve, new.publish.feeds_dir) != (old.serve, old.publish.feeds_dir):
            log.warning("[serve] and publish.feeds_dir changes reach the built-in server after a restart")
            return
        self._server.config = new
        self._server.app.config = new

    # -- life cycle --------------------------------------------------------------------------------------------

    def start(self) -> None:
        """Start the jobs (and the config watcher) in background threads."""
        if self.reloader is not None:
            self.reloader.forget()  # started from a valid config: an old rejection no longer applies
        self.schedule_sources(self.ctx.config)
        # Failed translations come due and editors drop corrections without any source having news.
        self.scheduler.add_job(self.housekeeping, IntervalTrigger(seconds=HOUSEKEEPING), id="housekeeping")
        # Publish at start too: feeds reflect the store even when no source has news, and a publish cut
        # short by a crash is redone.
        self.request_processing()
        self.ctx.store.set_state("service", json.dumps({"pid": os.getpid(), "host": socket.gethostname()}))
        self.scheduler.start()
        if self.reloader is not None:
            self.reloader.start()
        self._server = start_in_background(self.ctx)  # serves feeds/ while the jobs run (serve.enabled)
        log.info("running: %d source(s); Ctrl-C or SIGTERM stops", len(self.ctx.config.sources))

    def stop(self) -> bool:
        """Stop taking work, let work under way finish for run.stop_timeout; False if some was abandoned."""
        self.stopping.set()
        timeout = self.ctx.config.run.stop_timeout.total_seconds()
        log.info("stopping: work under way has %.0fs to finish", timeout)
        if self.reloader is not None:
            self.reloader.stop()
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)  # no new jobs fire
        self.runner.shutdown(wait=False)  # queued translation units are dropped: they stay pending
        if self._server is not None:
            self._server.stop()
        with self._idle:
            clean = self._idle.wait_for(lambda: self._busy == 0, timeout=timeout)
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
