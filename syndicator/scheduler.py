"""APScheduler jobs that decide *when*: each source on its own interval, processing after new work.

What each job does is the caller's (syndicator/service.py hands in the callables); this module only knows
intervals, jitter, debouncing and that one translate-and-publish pass runs at a time.

Threads: polls run on the scheduler's default pool; translate-and-publish passes on a pool of one thread of
their own ("process"), which hands translation units to a ThreadPoolRunner. So a long backlog keeps at most
the process thread and the translation workers busy, and polls still fire on time.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from datetime import UTC, datetime, timedelta

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from syndicator.config import Config, SourceConfig, format_duration

log = logging.getLogger(__name__)

DEBOUNCE = timedelta(seconds=2)  # let several sources' news arrive before one translate-and-publish pass
# After a watched folder's pickup: the files already settled together (watcher.py), an editor is waiting.
PICKUP_DEBOUNCE = timedelta(milliseconds=200)
POLL_THREADS = 10
HOUSEKEEPING = 60.0  # seconds between checks for due retries and changed corrections


def source_job_id(name: str) -> str:
    """The scheduler job id of a source."""
    return f"source:{name}"


def pickup_job_id(name: str) -> str:
    """The scheduler job id of a source's poll out of schedule (a watched folder changed)."""
    return f"pickup:{name}"


def _trigger(cfg: SourceConfig) -> IntervalTrigger:
    jitter = (cfg.jitter or timedelta(0)).total_seconds()
    return IntervalTrigger(seconds=cfg.every.total_seconds(), jitter=jitter or None)


def schedule_text(cfg: SourceConfig) -> str:
    """A source's schedule in words, as the log and `syndicator status` show it."""
    return f"every {format_duration(cfg.every)}, jitter {format_duration(cfg.jitter or timedelta(0))}"


class Scheduler:
    """The jobs: a poll per source on its interval, a debounced translate-and-publish pass, housekeeping.

    poll(name, pickup) returns whether the source brought new work (`pickup`: out of schedule, because a
    watched folder changed); one_pass() translates and publishes once and returns whether work was left over
    (the pass goes round again); housekeeping() returns whether there is work due without any source having
    news. Polls and passes count as work under way until they return. Polls of one source never overlap.
    """

    def __init__(
        self,
        *,
        poll: Callable[[str, bool], bool],
        one_pass: Callable[[], bool],
        housekeeping: Callable[[], bool],
        stopping: threading.Event,
    ) -> None:
        self._poll, self._one_pass, self._housekeeping = poll, one_pass, housekeeping
        self.stopping = stopping
        self.jobs = BackgroundScheduler(
            timezone=UTC,
            executors={"default": ThreadPoolExecutor(POLL_THREADS), "process": ThreadPoolExecutor(1)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
        )
        self._dirty = threading.Event()
        self._processing = threading.Lock()
        self._busy = 0
        self._idle = threading.Condition()
        self._source_locks: dict[str, threading.Lock] = {}
        self._locks_lock = threading.Lock()

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

    def _source_lock(self, name: str) -> threading.Lock:
        with self._locks_lock:
            return self._source_locks.setdefault(name, threading.Lock())

    def poll(self, name: str, pickup: bool = False) -> None:
        """Poll one source; ask for processing when it brought new or changed articles.

        A poll of a source that is being polled waits for that one to end, then polls: the change that asked
        for it may have come after the other had listed the folder."""
        if self.stopping.is_set():
            return
        with self._job(), self._source_lock(name):
            if self.stopping.is_set():
                return
            changed = self._poll(name, pickup)
        if changed:
            self.request_processing(PICKUP_DEBOUNCE if pickup else DEBOUNCE)

    def poll_soon(self, name: str) -> None:
        """Poll a source now, out of its schedule (its watched folder changed); its interval goes on as it was.
        Requests made while one is waiting to run make that one poll."""
        if self.stopping.is_set():
            return
        self.jobs.add_job(
            self.poll,
            args=[name, True],
            id=pickup_job_id(name),
            name=f"pick up {name}",
            replace_existing=True,
            next_run_time=datetime.now(UTC),
            # One running and one waiting for the source's lock: a file that settles while a pickup poll is
            # under way gets a poll after it (with one instance APScheduler would skip it, and the file wait
            # for the next scheduled poll); more would only wait behind the one waiting.
            max_instances=2,
        )

    def request_processing(self, delay: timedelta = DEBOUNCE) -> None:
        """Schedule one translate-and-publish pass in `delay`; many requests make one pass, which runs no later
        than the earliest of them asked."""
        self._dirty.set()  # set before scheduling: a pass that is ending re-checks it (see process)
        if self.stopping.is_set():
            return
        when = datetime.now(UTC) + delay
        job = self.jobs.get_job("process")
        if job is not None and job.next_run_time is not None and job.next_run_time <= when:
            return  # one is due sooner: it serves this request too
        self.jobs.add_job(
            self.process,
            id="process",
            name="translate and publish",
            executor="process",
            replace_existing=True,
            next_run_time=when,
        )

    def housekeeping(self) -> None:
        """Ask for processing when there is work due that no source announced."""
        if self._housekeeping():
            self.request_processing()

    def process(self) -> None:
        """Translate and publish until no new work arrived meanwhile."""
        if not self._processing.acquire(blocking=False):
            return  # the running pass sees the dirty flag and goes round again
        try:
            with self._job():
                while self._dirty.is_set() and not self.stopping.is_set():
                    self._dirty.clear()
                    if self._one_pass() and not self.stopping.is_set():
                        self._dirty.set()
        finally:
            self._processing.release()
        # A request that came between the last check and the release found the lock taken: serve it now.
        if self._dirty.is_set() and not self.stopping.is_set():
            self.request_processing()

    # -- sources ------------------------------------------------------------------------------------------

    def schedule_sources(
        self, config: Config, old: Config | None = None, *, first_runs: Mapping[str, datetime] | None = None
    ) -> dict[str, str]:
        """Make the jobs match the config: add new sources, stop removed ones, reschedule changed intervals.

        Returns each source's schedule in words by name ("" for a source that stopped)."""
        now = datetime.now(UTC)
        before = {c.name: c for c in (old.sources if old else ()) if c.enabled}
        after = {c.name: c for c in config.sources if c.enabled}
        schedules: dict[str, str] = {}
        for name in before.keys() - after.keys():
            with suppress(JobLookupError):
                self.jobs.remove_job(source_job_id(name))
            schedules[name] = ""
            log.info("source %s: stopped", name)
        for name, cfg in after.items():
            prev = before.get(name)
            if prev is None:
                self.jobs.add_job(
                    self.poll,
                    _trigger(cfg),
                    args=[name, False],
                    id=source_job_id(name),
                    name=f"poll {name}",
                    next_run_time=max(now, (first_runs or {}).get(name, now)),
                    replace_existing=True,
                )
                if old is not None:
                    log.info("source %s: scheduled, %s", name, schedule_text(cfg))
            elif (prev.every, prev.jitter) != (cfg.every, cfg.jitter):
                self.jobs.reschedule_job(source_job_id(name), trigger=_trigger(cfg))
                log.info("source %s: rescheduled, %s", name, schedule_text(cfg))
            schedules[name] = schedule_text(cfg)
        return schedules

    # -- life cycle --------------------------------------------------------------------------------------------

    def start(self) -> None:
        """Start firing jobs in background threads, housekeeping every HOUSEKEEPING seconds among them."""
        # Failed translations come due and editors drop corrections without any source having news.
        self.jobs.add_job(self.housekeeping, IntervalTrigger(seconds=HOUSEKEEPING), id="housekeeping")
        self.jobs.start()

    def shutdown(self) -> None:
        """Fire no new jobs; jobs under way go on (see wait_idle)."""
        if self.jobs.running:
            self.jobs.shutdown(wait=False)

    def wait_idle(self, timeout: float) -> bool:
        """Wait until no poll or pass is under way; False if some still was after timeout seconds."""
        with self._idle:
            return self._idle.wait_for(lambda: self._busy == 0, timeout=timeout)
