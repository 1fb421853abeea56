"""Progress of long translation backlogs: periodic log lines, and a bar on a terminal."""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, TextIO

log = logging.getLogger(__name__)

LOG_EVERY = 10.0  # seconds between progress lines for one language


class Progress:
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
