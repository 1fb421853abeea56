"""The celery runner: what `syndicator run` (or `run --once`) uses to hand units to the workers.

Each unit becomes one task on its pair's queue. Before sending, the runner claims the unit's rows in the
store for the task's id (QUEUED_LEASE, or run.task_wait if longer): the next pass plans only unclaimed rows,
so a unit is not queued again while its task waits in a long queue, and if the task is lost (a broker that lost
its messages) the lease runs out and the rows are planned again. A task that runs after its lease ran out still
does its work unless a newer task holds the rows. Results come back as the tasks finish; after run.task_wait the runner stops waiting (the
tasks go on: their workers store the outcomes and ask for publishing) and reports the rest as queued.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from datetime import timedelta
from typing import Any

from celery.exceptions import TimeoutError as ResultTimeout
from kombu.exceptions import OperationalError

from syndicator.config import Config
from syndicator.distributed.app import TRANSLATE_TASK, make_app, queue_name
from syndicator.distributed.tasks import request_publish
from syndicator.errors import TranslationError
from syndicator.runner import QUEUED, Abandoned, Execute, Runner, Unit, UnitResult, register_runner
from syndicator.store import Store

log = logging.getLogger(__name__)

POLL_RESULTS = 1.0  # seconds between looks at the stop flag while waiting for a result
QUEUED_LEASE = timedelta(hours=1)  # how long queued rows are left to their task before being queued again


class CeleryRunner:
    """Units as tasks on their pair's queue; results as they finish (see the module doc)."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.app = make_app(config)
        self.store = Store(config.store.url)
        self.lease = max(QUEUED_LEASE, config.run.task_wait)
        self._closed = threading.Event()

    def send(self, units: Sequence[Unit]) -> list[tuple[Unit, Any]]:
        """Claim each unit's rows for a new task id and send the task; (unit as sent, its AsyncResult)."""
        sent = []
        for unit in units:
            task_id = uuid.uuid4().hex
            ids = self.store.claim(
                unit.target,
                task_id,
                limit=len(unit.article_ids),
                article_ids=unit.article_ids,
                lease=self.lease,
            )
            if not ids:
                continue  # another pass or scheduler queued these meanwhile
            queued = Unit(unit.source, unit.target, tuple(ids))
            try:
                result = self.app.send_task(
                    TRANSLATE_TASK, args=[queued.source, queued.target, list(ids)], task_id=task_id,
                    queue=queue_name(queued.pair),
                )  # fmt: skip
            except OperationalError as exc:
                self.store.release_claims(task_id)  # not queued: plan them again next pass
                raise TranslationError(
                    f"cannot queue translation tasks on the broker ({exc})", hint="check run.broker"
                ) from exc
            sent.append((queued, result))
        return sent

    def run(self, units: Sequence[Unit]) -> Iterator[UnitResult]:
        """Send every unit, then hand back results as they come, up to run.task_wait."""
        if self._closed.is_set():
            raise Abandoned(f"{len(units)} unit(s) not sent: stopping")
        sent = self.send(units)
        log.info("queued %d translation task(s)", len(sent))
        deadline = time.monotonic() + self.config.run.task_wait.total_seconds()
        for unit, result in sent:
            data = None
            while data is None and not self._closed.is_set() and time.monotonic() < deadline:
                try:
                    data = result.get(timeout=POLL_RESULTS, propagate=False)
                except ResultTimeout:
                    continue
                if result.failed():
                    log.error("translation task %s (%s) failed: %s", result.id, unit.pair, data)
                    data = None
                    break
            if isinstance(data, dict):
                yield UnitResult.from_json(data)
            else:
                yield UnitResult(unit, {QUEUED: len(unit.article_ids)})

    def request_publish(self, languages: Sequence[str]) -> bool:
        """Ask for a debounced publish of each language, on the publish queue."""
        for language in languages:
            request_publish(self.app, self.store, language)
        return True

    def shutdown(self, wait: bool = True) -> None:
        """Stop waiting for results; queued tasks go on on their workers."""
        self._closed.set()


@register_runner("celery")
def celery_runner(config: Config, execute: Execute, workers: int) -> Runner:
    """The runner for run.runner = "celery" (units run on workers, not through `execute`)."""
    return CeleryRunner(config)
