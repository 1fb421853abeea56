"""Where units of translation work run: in this process, or on workers elsewhere (a task queue).

A unit is plain data (a language pair and article ids) and so is its result (how many articles ended done,
failed or waiting for a model): both can cross a process or a machine. A runner takes units and hands back
results as they finish; whoever asked counts progress from those results. Runners are registered by name and
chosen by `run.runner`:

- ``in-process`` (the default): units run inside this process through `execute`, the pipeline's function
  that translates one unit with this process's loaded engines; `workers` at a time (1: one after another in
  the calling thread, more: a pool of threads, CTranslate2 releases the GIL while it translates).
- ``celery`` (syndicator/distributed/): units become tasks on a queue per language pair, translated by
  `syndicator worker` processes. That module registers itself when imported, which only the command line
  does, and only for an instance configured for it: the embedded path never imports Celery.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import CancelledError, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Protocol

from syndicator.config import Config
from syndicator.errors import ConfigError
from syndicator.models import DONE, FAILED, NO_MODEL

log = logging.getLogger(__name__)

# Outcomes counted per unit: the translation statuses, and "queued": handed to workers that had not finished it
# when the runner stopped waiting (they go on; the store records the outcome).
QUEUED = "queued"
OUTCOMES = (DONE, FAILED, NO_MODEL, QUEUED)


@dataclass(frozen=True)
class Unit:
    """One unit of translation work: plain data, so a task queue can carry it."""

    source: str
    target: str
    article_ids: tuple[int, ...]

    @property
    def pair(self) -> str:
        """The language pair, e.g. "en-fr" (queue names and `syndicator worker --pairs` use it)."""
        return f"{self.source}-{self.target}"


@dataclass(frozen=True)
class UnitResult:
    """What became of a unit's articles: counts per outcome (done, failed, no-model, queued)."""

    unit: Unit
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def articles(self) -> int:
        """Articles of the unit accounted for."""
        return sum(self.counts.values())

    def to_json(self) -> dict[str, object]:
        """Plain JSON for a task's return value."""
        u = self.unit
        return {
            "source": u.source,
            "target": u.target,
            "article_ids": list(u.article_ids),
            "counts": self.counts,
        }

    @classmethod
    def from_json(cls, data: dict[str, object]) -> UnitResult:
        """The result a task returned (see to_json)."""
        ids = data["article_ids"]
        counts = data["counts"]
        assert isinstance(ids, list) and isinstance(counts, dict)
        unit = Unit(str(data["source"]), str(data["target"]), tuple(int(i) for i in ids))
        return cls(unit, {str(k): int(v) for k, v in counts.items()})


Execute = Callable[[Unit], UnitResult]


class Abandoned(Exception):
    """The runner was shut down while units were waiting: they stay pending and are redone later."""


class Runner(Protocol):
    """Runs units of work and hands back their results as they finish."""

    def run(self, units: Sequence[Unit]) -> Iterator[UnitResult]:
        """A result for every unit, in the order they finish; raises Abandoned after shutdown(). A caller
        that stops reading closes the iterator: units not started then stay pending in the store."""
        ...

    def request_publish(self, languages: Sequence[str]) -> bool:
        """Have these languages published where the feed writer is: True when the runner arranged it (a
        task elsewhere), False when the caller publishes itself."""
        ...

    def shutdown(self, wait: bool = True) -> None:
        """Take no more units; units not started stay pending in the store."""
        ...


class InProcessRunner:
    """Runs units one after another in the calling thread: the models stay loaded in this process."""

    def __init__(self, execute: Execute) -> None:
        self.execute = execute
        self._closed = threading.Event()

    def run(self, units: Sequence[Unit]) -> Iterator[UnitResult]:
        """execute(unit) for every unit, in order; stops between units after shutdown()."""
        for i, unit in enumerate(units):
            if self._closed.is_set():
                raise Abandoned(f"{len(units) - i} unit(s) not started: stopping")
            yield self.execute(unit)

    def request_publish(self, languages: Sequence[str]) -> bool:
        """Publishing happens here, in the caller."""
        return False

    def shutdown(self, wait: bool = True) -> None:
        """Start no further unit."""
        self._closed.set()


class ThreadPoolRunner:
    """Runs units on a fixed pool of worker threads that live as long as the service.

    The engines (and their loaded models) are shared by the workers, so nothing is loaded twice;
    CTranslate2 releases the GIL while it translates, so workers really run side by side and the
    scheduler's polling threads keep their turn.
    """

    def __init__(self, execute: Execute, workers: int) -> None:
        self.execute = execute
        self.workers = workers
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="translate")
        self._closed = threading.Event()

    def run(self, units: Sequence[Unit]) -> Iterator[UnitResult]:
        """execute(unit) for every unit on the pool; results as they finish. Raises Abandoned after
        shutdown()."""
        if self._closed.is_set():
            raise Abandoned(f"{len(units)} unit(s) not started: stopping")
        try:
            futures: list[Future[UnitResult]] = [self._pool.submit(self.execute, unit) for unit in units]
        except RuntimeError as exc:  # shut down between the check and the submit
            raise Abandoned(str(exc)) from exc
        pending = set(futures)
        try:
            while pending:
                wait(pending, timeout=0.5)
                # done() rather than wait()'s answer: futures cancelled by shutdown(cancel_futures=True) are
                # never "notified", so wait() would not report them and this loop would never end.
                for f in [f for f in futures if f in pending and f.done()]:
                    pending.discard(f)
                    yield f.result()
        except CancelledError as exc:
            raise Abandoned("translation units cancelled: stopping") from exc
        except GeneratorExit:
            # The caller stopped reading (it has more urgent work): units not started stay pending in the
            # store; those under way finish first, so the next plan cannot hand them out a second time.
            for f in pending:
                f.cancel()
            wait([f for f in pending if not f.cancelled()])
            raise

    def request_publish(self, languages: Sequence[str]) -> bool:
        """Publishing happens here, in the caller."""
        return False

    def shutdown(self, wait: bool = True) -> None:
        """Take no more units; drop the queued ones (they stay pending in the store)."""
        self._closed.set()
        self._pool.shutdown(wait=wait, cancel_futures=True)


RunnerFactory = Callable[[Config, Execute, int], Runner]
"""Makes a runner from the config, the local way to execute a unit, and how many units may run at once."""


def _in_process(config: Config, execute: Execute, workers: int) -> Runner:
    return InProcessRunner(execute) if workers <= 1 else ThreadPoolRunner(execute, workers)


RUNNERS: dict[str, RunnerFactory] = {"in-process": _in_process}


def register_runner(name: str) -> Callable[[RunnerFactory], RunnerFactory]:
    """Register a runner factory under the name `run.runner` selects it by."""

    def add(factory: RunnerFactory) -> RunnerFactory:
        RUNNERS[name] = factory
        return factory

    return add


def make_runner(config: Config, execute: Execute, workers: int = 1) -> Runner:
    """The runner `run.runner` names; ConfigError when its module was not loaded (see the module doc)."""
    name = config.run.runner
    factory = RUNNERS.get(name)
    if factory is None:
        raise ConfigError(
            f"run.runner = {name!r} is not available in this process",
            hint="the command line loads it; known runners: " + ", ".join(sorted(RUNNERS)),
        )
    return factory(config, execute, workers)
