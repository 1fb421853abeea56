"""Where units of work run: in this process now; a distributed task queue can take the same units later."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import CancelledError, Future, ThreadPoolExecutor, wait
from typing import Protocol, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")


class Runner(Protocol):
    """Runs a function over units of work and hands back the results in order."""

    def map(self, fn: Callable[[T], R], units: Sequence[T]) -> list[R]:
        """fn(unit) for every unit."""
        ...


class InProcessRunner:
    """Runs units one after another in the calling thread: the models stay loaded in this process."""

    def map(self, fn: Callable[[T], R], units: Sequence[T]) -> list[R]:
        """fn(unit) for every unit, in order."""
        return [fn(unit) for unit in units]


class Abandoned(Exception):
    """The runner was shut down while units were waiting: they stay pending and are redone later."""


class ThreadPoolRunner:
    """Runs units on a fixed pool of worker threads that live as long as the service.

    The engines (and their loaded models) are shared by the workers, so nothing is loaded twice;
    CTranslate2 releases the GIL while it translates, so workers really run side by side and the
    scheduler's polling threads keep their turn.
    """

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="translate")
        self._closed = threading.Event()

    def map(self, fn: Callable[[T], R], units: Sequence[T]) -> list[R]:
        """fn(unit) for every unit on the pool; results in order. Raises Abandoned after shutdown()."""
        if self._closed.is_set():
            raise Abandoned(f"{len(units)} unit(s) not started: stopping")
        try:
            futures: list[Future[R]] = [self._pool.submit(fn, unit) for unit in units]
        except RuntimeError as exc:  # shut down between the check and the submit
            raise Abandoned(str(exc)) from exc
        try:
            pending = set(futures)
            while pending:
                wait(pending, timeout=0.5)
                # done() rather than wait()'s answer: futures cancelled by shutdown(cancel_futures=True) are
                # never "notified", so wait() would not report them and this loop would never end.
                finished = {f for f in pending if f.done()}
                pending -= finished
            return [f.result() for f in futures]
        except CancelledError as exc:
            raise Abandoned("translation units cancelled: stopping") from exc

    def shutdown(self, wait: bool = True) -> None:
        """Take no more units; drop the queued ones (they stay pending in the store)."""
        self._closed.set()
        self._pool.shutdown(wait=wait, cancel_futures=True)


RUNNERS: dict[str, Callable[[], Runner]] = {"in-process": InProcessRunner}
