"""The tasks: translate one unit, publish one language. They carry ids and language codes, never objects.

`syndicator.translate(source, target, article_ids)` runs the unit under a claim named by its task id
(pipeline/units.py): it takes the articles still pending and free (or already its own: a redelivered task
has the same id, so it picks up at once what its dead first delivery held), stores each outcome only while
it holds the claim, and gives back what is left. Delivered twice, run by two workers, or racing another
task over one article: each (article, language) is translated and stored once.

`syndicator.publish(language)` is debounced through the store: whoever stores translations records a
publish request (`Store.want_publish`), and only the first request of a burst sends the task, `run.
publish_delay` later. The task publishes, then clears the request it saw; a request that came while it
published stays, and the task sends itself again for it. Publishing is idempotent (unchanged files are not
rewritten), so a redelivered or duplicate publish task costs little and breaks nothing. One publish runs at
a time across all workers and commands (the store's `publish` lock); the others wait their turn.
"""

from __future__ import annotations

import logging
import os
from datetime import timedelta
from typing import Any

from celery import Celery, Task

from syndicator.config import Config
from syndicator.models import DONE, CycleReport
from syndicator.pipeline import Context, open_context, publish
from syndicator.pipeline.units import run_unit
from syndicator.runner import Unit
from syndicator.store import Store

log = logging.getLogger(__name__)

STALE_REQUEST = timedelta(minutes=5)  # a publish request older than this (plus the delay) lost its task

_contexts: dict[int, Context] = {}  # per process (prefork children each build their own)


def config_of(app: Celery) -> Config:
    """The instance config the application was made for."""
    config: Config = app.syndicator_config
    return config


def worker_context(app: Celery) -> Context:
    """This process's context: its own store connections and engines, built on first use and kept, so the
    models stay loaded between tasks."""
    pid = os.getpid()
    ctx = _contexts.get(pid)
    if ctx is None:
        _contexts.clear()  # a forked child must not use its parent's connections
        ctx = _contexts[pid] = open_context(config_of(app))
    return ctx


def request_publish(app: Celery, store: Store, language: str) -> bool:
    """Record that `language` needs publishing; send the publish task unless one is already on its way.
    True when a task was sent."""
    delay = config_of(app).run.publish_delay
    if not store.want_publish(language, stale_after=delay + STALE_REQUEST):
        return False
    from syndicator.distributed.app import PUBLISH_QUEUE, PUBLISH_TASK

    app.send_task(PUBLISH_TASK, args=[language], queue=PUBLISH_QUEUE, countdown=delay.total_seconds())
    return True


def translate_unit(task: Task, source: str, target: str, article_ids: list[int]) -> dict[str, Any]:
    """Translate one unit under the claim of this task's id; ask for its language to be published."""
    ctx = worker_context(task.app)
    unit = Unit(source, target, tuple(int(i) for i in article_ids))
    result = run_unit(ctx, unit, claim=str(task.request.id))
    log.info("%s: %s", unit.pair, result.counts or "nothing left to do")
    if result.counts.get(DONE):
        request_publish(task.app, ctx.store, target)
    return result.to_json()


def publish_language(task: Task, language: str) -> int:
    """Publish one language's feeds (and the root index) if a request is waiting; the files written."""
    ctx = worker_context(task.app)
    delay = ctx.config.run.publish_delay.total_seconds()
    token = ctx.store.publish_wanted(language)
    if token is None:
        return 0  # another publish already covered every request
    report = CycleReport()
    publish(ctx, report, languages=[language])  # one publisher at a time (pipeline/publishing.py)
    log.info("published %s: %d file(s) written", language, len(report.written))
    if not ctx.store.publish_done(language, token):
        # Translations stored while this publish ran asked for another, which nobody has sent yet.
        from syndicator.distributed.app import PUBLISH_QUEUE

        task.app.send_task(task.name, args=[language], queue=PUBLISH_QUEUE, countdown=delay)
    return len(report.written)


def register(app: Celery) -> None:
    """Register the tasks on an application (app.py)."""
    from syndicator.distributed.app import PUBLISH_TASK, TRANSLATE_TASK

    app.task(name=TRANSLATE_TASK, bind=True)(translate_unit)
    app.task(name=PUBLISH_TASK, bind=True)(publish_language)
