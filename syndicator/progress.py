"""Progress of long work: a bar on a terminal (tqdm) and a progress line in the logs every so often.

`progress()` tracks one job (model installs); `BacklogProgress` counts a translation backlog per language.

for pkg in progress(files, "installing models"): ...
with progress(120, "translating fr") as bar:
    bar.update(10)
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sized
from typing import Any, Generic, TextIO, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")

LOG_EVERY = 10.0  # seconds between progress lines in the logs: often enough to see life, rare enough to read


def _terminal() -> bool:
    return sys.stderr is not None and sys.stderr.isatty()


class Progress(Generic[T]):
    """Counts done items of a known (or unknown) total; iterate it to count an iterable's items."""

    def __init__(
        self, items: Iterable[T] | None, total: int | None, desc: str, *, log_every: float = LOG_EVERY
    ) -> None:
        self.items, self.total, self.desc = items, total, desc
        self.done = 0
        self.log_every = log_every
        self._started = self._logged = time.monotonic()
        self._lock = threading.Lock()  # worker threads update one bar
        self._bar: Any = None
        if _terminal():
            from tqdm import tqdm

            self._bar = tqdm(total=total, desc=desc, unit="", leave=False, dynamic_ncols=True)
        log.info("%s: started%s", desc, f" ({total} to do)" if total is not None else "")

    def update(self, n: int = 1) -> None:
        """Count n more items done."""
        with self._lock:
            self.done += n
            if self._bar is not None:
                self._bar.update(n)
            now = time.monotonic()
            if now - self._logged >= self.log_every:
                self._logged = now
                log.info("%s: %s done (%.0fs)", self.desc, self._fraction(), now - self._started)

    def _fraction(self) -> str:
        if not self.total:
            return str(self.done)
        return f"{self.done}/{self.total} ({self.done / self.total:.0%})"

    def close(self, completed: bool = True) -> None:
        """Finish: close the bar and log the total. Work cut short by an error is not called finished: the
        error says what happened, and a "finished" line printed before it only misleads."""
        with self._lock:
            if self._bar is not None:
                self._bar.close()
                self._bar = None
            took = time.monotonic() - self._started
            if completed:
                log.info("%s: finished, %s done in %.1fs", self.desc, self._fraction(), took)
            else:
                log.debug("%s: stopped by an error, %s done in %.1fs", self.desc, self._fraction(), took)

    def __iter__(self) -> Iterator[T]:
        if self.items is None:
            raise TypeError("progress(total, ...) counts with update(); pass an iterable to iterate")
        completed = False
        try:
            for item in self.items:
                yield item
                self.update()
            completed = True
        finally:
            self.close(completed)

    def __enter__(self) -> Progress[T]:
        return self

    def __exit__(self, kind: type[BaseException] | None, *exc: object) -> None:
        self.close(completed=kind is None)


def progress(what: Iterable[T] | int, desc: str, *, log_every: float = LOG_EVERY) -> Progress[T]:
    """Track an iterable (iterate the result) or a total (call update()); bar on a TTY, lines in the logs."""
    if isinstance(what, int):
        return Progress(None, what, desc, log_every=log_every)
    total = len(what) if isinstance(what, Sized) else None
    return Progress(what, total, desc, log_every=log_every)


class BacklogProgress:
    """Counts translated articles per language against the backlog planned for this cycle.

    Lines read "fr: 120/900 articles translated". Small backlogs (at most `quiet_below` articles in all) log
    nothing; the bar is shown only when `stream` is a terminal.
    """

    def __init__(
        self,
        totals: Mapping[str, int],
        *,
        stream: TextIO | None = None,
        quiet_below: int = 50,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.totals = dict(totals)
        self.done = dict.fromkeys(totals, 0)
        self.clock = clock
        self.last_log: dict[str, float] = {}
        self.enabled = sum(self.totals.values()) > quiet_below
        self._lock = threading.Lock()  # translation workers report from their own threads
        stream = stream if stream is not None else sys.stderr
        self.bar: Any = None
        if self.enabled and stream.isatty():
            from tqdm import tqdm  # an argostranslate dependency already

            self.bar = tqdm(total=sum(self.totals.values()), unit="article", desc="translating", file=stream)

    def advance(self, language: str, articles: int) -> None:
        """Record `articles` more finished (translated, failed or waiting) for `language`."""
        with self._lock:
            self._advance(language, articles)

    def _advance(self, language: str, articles: int) -> None:
        self.done[language] = self.done.get(language, 0) + articles
        if self.bar is not None:
            self.bar.update(articles)
            self.bar.set_postfix_str(language)
        if not self.enabled:
            return
        now = self.clock()
        finished = self.done[language] >= self.totals.get(language, 0)
        if finished or now - self.last_log.get(language, float("-inf")) >= LOG_EVERY:
            self.last_log[language] = now
            log.info(
                "%s: %d/%d articles translated", language, self.done[language], self.totals.get(language, 0)
            )

    def close(self) -> None:
        """Remove the bar."""
        if self.bar is not None:
            self.bar.close()
