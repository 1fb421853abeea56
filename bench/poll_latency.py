"""Polling stays on time while a translation backlog runs: poll lateness idle vs during a backlog, side by side.

A temp instance with tiny real Argos models (en→fr, en→de) and ARTICLES articles; the source is polled every
second. Phase "idle": the store is already translated, polls only. Phase "backlog": the same instance with a
fresh store, so every article is translated while the polls go on. Lateness = when APScheduler handed the poll
to a thread minus when it was due. Also prints translation wall time with 1 and 2 workers.

Run: .venv/bin/python bench/poll_latency.py
The machine is shared and has 2 cores: absolute numbers are noisy; compare the ratios within one run.
"""

from __future__ import annotations

import dataclasses
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from apscheduler.events import (
    EVENT_JOB_EXECUTED,
    EVENT_JOB_MAX_INSTANCES,
    EVENT_JOB_SUBMITTED,
    JobEvent,
    JobSubmissionEvent,
)

from syndicator.cli import main
from syndicator.config import Config, load_config
from syndicator.pipeline import open_context
from syndicator.scheduler import source_job_id
from syndicator.service import Service
from tests.conftest import REPO, write_config
from tests.support.service import write_article
from tests.support.tinymodel import build_package

ARTICLES = 800
IDLE_POLLS = 8


def _config(root: Path, workers: int) -> Config:
    config = load_config(root / "config" / "syndicator.toml", overrides={"serve.enabled": "false"})
    sources = tuple(
        dataclasses.replace(s, every=timedelta(seconds=1), jitter=timedelta(0)) for s in config.sources
    )
    translation = dataclasses.replace(config.translation, workers=workers)
    return dataclasses.replace(config, sources=sources, translation=translation)


DURATIONS: list[float] = []
SKIPPED: list[int] = [0]


def _measure(root: Path, workers: int, until_drained: bool) -> tuple[list[float], float]:
    """Run the service; return poll lateness samples (s) and the seconds until the backlog drained."""
    ctx = open_context(_config(root, workers))
    service = Service(ctx, watch=False)
    late: list[float] = []
    started: list[float] = []

    def on_submit(event: JobSubmissionEvent) -> None:
        if event.job_id == source_job_id("newsroom"):
            now = datetime.now(UTC)
            late.extend((now - due).total_seconds() for due in event.scheduled_run_times)
            started.append(time.monotonic())

    def on_done(event: JobEvent) -> None:
        if event.job_id == source_job_id("newsroom") and started:
            DURATIONS.append(time.monotonic() - started[-1])

    def on_skip(event: JobEvent) -> None:
        if event.job_id == source_job_id("newsroom"):
            SKIPPED[0] += 1

    service.scheduler.jobs.add_listener(on_submit, EVENT_JOB_SUBMITTED)
    service.scheduler.jobs.add_listener(on_done, EVENT_JOB_EXECUTED)
    service.scheduler.jobs.add_listener(on_skip, EVENT_JOB_MAX_INSTANCES)
    start = time.monotonic()
    service.start()
    try:
        time.sleep(3)  # first poll and the processing request
        if until_drained:
            while ctx.store.pending() or ctx.store.article_count() < ARTICLES:
                time.sleep(0.2)
        else:
            while len(late) < IDLE_POLLS:
                time.sleep(0.2)
        took = time.monotonic() - start
    finally:
        service.stop()
        ctx.close()
    return late[1:], took  # the first poll is due "now" at start-up: not a scheduling sample


def _summary(samples: list[float]) -> str:
    if not samples:
        return "no samples"
    p95 = sorted(samples)[max(0, int(len(samples) * 0.95) - 1)]
    return f"{len(samples)} polls, median {statistics.median(samples) * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms"


def run() -> None:
    """Print poll lateness idle vs during a backlog, and backlog time with 1 vs 2 workers."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "instance"
        (root / "articles").mkdir(parents=True)
        (root / "models").mkdir()
        shutil.copytree(REPO / "locales", root / "locales")
        write_config(root, targets=("fr", "de"), engine="argos")
        config = str(root / "config" / "syndicator.toml")
        for target in ("fr", "de"):
            pkg = build_package(Path(tmp), "en", target, seed=len(target))
            assert main(["-q", "--config", config, "models", "install", str(pkg)]) == 0
        body = " ".join(f"Sentence {i} tells the harbour news of the day." for i in range(12))
        for n in range(ARTICLES):
            write_article(
                root / "articles", f"story-{n:03d}", f"Story {n}", f"{body}\n\n{body}", day=1 + n % 28
            )

        results = {}
        for workers in (1, 2):
            (root / "data").exists() and shutil.rmtree(root / "data")
            results[workers] = _measure(root, workers, until_drained=True)
        busy_durations, busy_skipped = list(DURATIONS), SKIPPED[0]
        DURATIONS.clear()
        SKIPPED[0] = 0
        idle, _ = _measure(root, 2, until_drained=False)  # translated store: nothing to do but poll
        busy, _ = results[2]
        print(f"{ARTICLES} articles x 2 languages, tiny real Argos models, polls every 1 s")
        print(f"  poll lateness idle:            {_summary(idle)}")
        print(f"  poll lateness during backlog:  {_summary(busy)}")
        if idle and busy:
            ratio = statistics.median(busy) / max(statistics.median(idle), 1e-6)
            print(f"  ratio busy/idle (median):      {ratio:.2f}")
        print(
            f"  poll run time idle:            median {statistics.median(DURATIONS):.2f} s ({SKIPPED[0]} skipped: "
            "still running when due)"
        )
        print(
            f"  poll run time during backlogs: median {statistics.median(busy_durations):.2f} s ({busy_skipped} "
            "skipped: still running when due)"
        )
        t1, t2 = results[1][1], results[2][1]
        print(f"  backlog drained: 1 worker {t1:.1f} s, 2 workers {t2:.1f} s, speed-up {t1 / t2:.2f}x")


if __name__ == "__main__":
    run()
