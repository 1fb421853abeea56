"""The long-running service (`syndicator run`): the pipeline's stages run as the scheduler's jobs, the feeds
served beside them, config edits put in force, and a clean stop.

The scheduler (scheduler.py) decides when; this module owns what runs: the translation runner, the engines,
the built-in server, live reload, the service's record in the store, and the signal handlers.
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
from types import FrameType
from typing import Any

from syndicator.config import Config
from syndicator.errors import SyndicatorError
from syndicator.leadership import Leadership
from syndicator.models import CycleReport
from syndicator.pipeline import Context, collect, execute_unit, publish, rebuild_context, translate
from syndicator.publish.writer import writer_settings
from syndicator.runner import Abandoned, Runner, make_runner
from syndicator.scheduler import Scheduler
from syndicator.serve.server import start_in_background

log = logging.getLogger(__name__)

SLOT_TOLERANCE = timedelta(seconds=1)  # clocks and timers are not exact: a poll this early still counts


class Service:
    """Polls sources on schedule; translates and publishes after new work; follows config edits."""

    def __init__(self, ctx: Context, *, overrides: dict[str, str] | None = None, watch: bool = True) -> None:
        self.ctx = ctx  # replaced whole on reload; every job reads it once when it starts
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

    def poll(self, name: str) -> bool:
        """Poll one source; True when it brought new or changed articles."""
        # Polls of different sources run side by side: the store serializes their writes (an upsert lock and
        # BEGIN IMMEDIATE transactions), so a slow source delays no other.
        ctx = self.ctx
        cfg = next((c for c in ctx.config.sources if c.name == name), None)
        if cfg is None:
            return False
        # Take this slot's poll in the store first: a scheduler that took over (or one that lost its lock
        # and has not noticed yet) finds the slot taken and skips it. Polls are `every` apart, less jitter.
        gap = timedelta(0)
        if self.shared_store:
            gap = max(gap, cfg.every - (cfg.jitter or timedelta(0)) - SLOT_TOLERANCE)
        try:
            if not ctx.store.start_poll(name, gap, self.identity):
                log.info("source %s: already polled in this slot (another scheduler); skipped", name)
                return False
            return bool(collect(ctx, CycleReport(), [name]))
        except SyndicatorError as exc:
            log.error("polling %s failed: %s", name, exc)
        except Exception:  # a bug in one source must not kill its schedule
            log.exception("polling %s crashed", name)
        return False

    def work_due(self) -> bool:
        """True when failed translations are due for a retry or the corrections folder changed."""
        ctx = self.ctx
        folder = ctx.config.translation.corrections_dir
        try:
            signature = sorted((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in folder.rglob("*.md"))
            due = ctx.store.retries_due()
        except (OSError, SyndicatorError) as exc:
            log.error("housekeeping failed: %s", exc)
            return False
        changed, self._corrections_seen = signature != self._corrections_seen, signature
        return bool(due or changed)

    def one_pass(self) -> bool:
        """Translate and publish once; True when translation was interrupted and work is left."""
        ctx = self.ctx
        report = CycleReport()
        left = False
        log.info("processing: %d translation(s) pending", len(ctx.store.pending()))
        for language in ctx.config.languages.targets:
            ctx.engine_for(language)  # create engines here, once: workers asking together would each make one
        try:
            translate(ctx, report)
        except Abandoned as exc:
            # Queued units stay pending in the store; a restart or the next pass redoes them.
            log.info("translation interrupted: %s", exc)
            left = True
        except SyndicatorError as exc:
            log.error("translation failed: %s", exc)
        if self.runner.request_publish(ctx.config.languages.all):
            # Publishing runs where the feed writer is (the runner's publish task, debounced).
            log.info(
                "translated: %s; queued: %s; publishing requested",
                report.per_language(report.translated), report.per_language(report.queued),
            )  # fmt: skip
            return left
        try:
            publish(ctx, report)
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
        self._reconfigure_server(old.config, new)
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
        if self.reloader is not None:
            self.reloader.start()
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
        self.scheduler.shutdown()  # no new jobs fire
        self.runner.shutdown(wait=False)  # queued translation units are dropped: they stay pending
        if self._server is not None:
            self._server.stop()
        clean = self.scheduler.wait_idle(timeout)
        self.leadership.release()  # only now may a standby start polling
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
