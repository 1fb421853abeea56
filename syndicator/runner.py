"""Where units of work run: in this process now; a distributed task queue can take the same units later."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
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


RUNNERS: dict[str, Callable[[], Runner]] = {"in-process": InProcessRunner}
