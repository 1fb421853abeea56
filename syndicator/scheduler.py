"""APScheduler jobs that decide *when*: each source on its own interval, processing after new work."""

from __future__ import annotations

import logging
import signal
import threading
from datetime import UTC, datetime, timedelta
from types import FrameType

from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.interval import IntervalTrigger

from syndicator.errors import SyndicatorError
from syndicator.models import CycleReport
from syndicator.pipeline import Context, collect, publish, translate
from syndicator.server import start_in_background

log = logging.getLogger(__name__)

DEBOUNCE = timedelta(seconds=2)  # let several sources' news arrive before one translate-and-publish pass
HOUSEKEEPING = 60.0  # seconds between checks for due retries and changed corrections


class Service:
    """Polls sources on schedule; translates and publishes after new work."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.scheduler = BlockingScheduler(timezone=UTC, job_defaults={"coalesce": True, "max_instances": 1})
        self._dirty = threading.Event()
        self._processing = threading.Lock()
        self._corrections_seen: list[tuple[str, int, int]] | None = None

    def poll(self, name: str) -> None:
        """Poll one source; ask for processing when it brought new or changed articles."""
        report = CycleReport()
        try:
            changed = collect(self.ctx, report, [name])
        except SyndicatorError as exc:
            log.error("polling %s failed: %s", name, exc)
            return
        if changed:
            self.request_processing()

    def request_processing(self) -> None:
        """Schedule one translate-and-publish pass soon; many requests make one pass."""
        self._dirty.set()
        self.scheduler.add_job(
            self.process, id="process", replace_existing=True, next_run_time=datetime.now(UTC) + DEBOUNCE
        )

    def housekeeping(self) -> None:
        """Ask for processing when failed translations are due for a retry or the corrections folder changed."""
        folder = self.ctx.config.translation.corrections_dir
        try:
            signature = sorted((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in folder.rglob("*.md"))
            due = self.ctx.store.retries_due()
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
            while self._dirty.is_set():
                self._dirty.clear()
                report = CycleReport()
                try:
                    translate(self.ctx, report)
                    publish(self.ctx, report)
                except SyndicatorError as exc:
                    log.error("processing failed: %s", exc)
                    continue
                log.info(
                    "published: %d file(s) changed; translated %s", len(report.written), report.translated
                )
        finally:
            self._processing.release()

    def run(self) -> None:
        """Run until Ctrl-C or SIGTERM; in-flight jobs finish before the process exits."""
        now = datetime.now(UTC)
        for cfg in self.ctx.config.sources:
            if not cfg.enabled:
                continue
            seconds = cfg.every.total_seconds()
            self.scheduler.add_job(
                self.poll,
                IntervalTrigger(seconds=seconds, jitter=min(30.0, seconds / 10)),
                args=[cfg.name],
                id=f"source:{cfg.name}",
                name=f"poll {cfg.name}",
                next_run_time=now,
            )
        # Failed translations come due and editors drop corrections without any source having news.
        self.scheduler.add_job(self.housekeeping, IntervalTrigger(seconds=HOUSEKEEPING), id="housekeeping")
        # Publish at start too: feeds reflect the store even when no source has news.
        self._dirty.set()
        self.scheduler.add_job(self.process, id="process", next_run_time=now + DEBOUNCE)

        def stop(signum: int, _frame: FrameType | None) -> None:
            log.info("received %s, stopping after the jobs under way", signal.Signals(signum).name)
            self.scheduler.shutdown(wait=False)

        signal.signal(signal.SIGTERM, stop)
        log.info("running: %d source(s); Ctrl-C or SIGTERM stops", len(self.ctx.config.sources))
        server = start_in_background(self.ctx)  # serves feeds/ while the jobs run (serve.enabled)
        try:
            self.scheduler.start()
        except KeyboardInterrupt:
            log.info("interrupted, stopping")
        finally:
            if self.scheduler.running:
                self.scheduler.shutdown(wait=True)
            if server is not None:
                server.stop()
