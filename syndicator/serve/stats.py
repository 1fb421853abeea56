"""Pull statistics and request counters, kept off the request path.

A request only appends a tuple to a deque (no lock, no I/O); a background thread folds the pulls into
per-day rows and writes them to the store in one transaction every few seconds, and at shutdown.
"""

from __future__ import annotations

import collections
import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

log = logging.getLogger(__name__)

FLUSH_EVERY = 5.0  # seconds between batched writes


class Counters:
    """In-memory request counters for /metrics (plain ints: increments are atomic enough under the GIL)."""

    def __init__(self) -> None:
        self.requests: collections.Counter[tuple[str, int]] = collections.Counter()  # (kind, status)
        self.files_changed = 0  # published files the server saw change
        self.started = datetime.now(UTC)

    def count(self, kind: str, status: int) -> None:
        """Count one response."""
        self.requests[(kind, status)] += 1


class PullRecorder:
    """Collects feed pulls in memory and writes them to the store in batches."""

    def __init__(
        self, write: Callable[[list[dict[str, Any]]], None], flush_every: float = FLUSH_EVERY
    ) -> None:
        self._write = write
        self._pending: collections.deque[tuple[str, str, bool, str, datetime]] = collections.deque()
        self._stop = threading.Event()
        self._flush_every = flush_every
        self._thread: threading.Thread | None = None

    def record(self, partner: str, feed: str, not_modified: bool, user_agent: str) -> None:
        """Note one pull (called on the request path: an append, nothing else)."""
        self._pending.append((partner, feed, not_modified, user_agent, datetime.now(UTC)))

    def start(self) -> None:
        """Start the background writer."""
        self._thread = threading.Thread(target=self._loop, name="pull-stats", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Write what is left and stop."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        self.flush()

    def _loop(self) -> None:
        while not self._stop.wait(self._flush_every):
            self.flush()

    def flush(self) -> int:
        """Write the pulls collected so far; return how many."""
        batch: dict[tuple[str, str, str], dict[str, Any]] = {}
        n = 0
        while self._pending:
            partner, feed, not_modified, agent, when = self._pending.popleft()
            n += 1
            key = (when.strftime("%Y-%m-%d"), partner, feed)
            row = batch.setdefault(
                key,
                {"day": key[0], "partner": partner, "feed": feed, "pulls": 0, "not_modified": 0,
                 "last_pull": when, "user_agent": agent},
            )  # fmt: skip
            row["pulls"] += 1
            row["not_modified"] += int(not_modified)
            if when >= row["last_pull"]:
                row["last_pull"], row["user_agent"] = when, agent
        if batch:
            try:
                self._write(list(batch.values()))
            except Exception as exc:  # statistics must never take the server down (a locked or full disk)
                log.error("could not store %d pull(s): %s", n, exc)
        return n


def render_metrics(counters: Counters, backlog: dict[str, int], published: int, last_error: str) -> str:
    """The Prometheus text exposition format (version 0.0.4) of the server's counters."""
    out = [
        "# HELP syndicator_http_requests_total HTTP responses by kind of resource and status.",
        "# TYPE syndicator_http_requests_total counter",
    ]
    for (kind, status), n in sorted(counters.requests.items()):
        out.append(f'syndicator_http_requests_total{{kind="{kind}",status="{status}"}} {n}')
    not_modified = sum(n for (_, status), n in counters.requests.items() if status == 304)
    out += [
        "# HELP syndicator_http_not_modified_total Responses answered 304 Not Modified.",
        "# TYPE syndicator_http_not_modified_total counter",
        f"syndicator_http_not_modified_total {not_modified}",
        "# HELP syndicator_feeds_published_total Files written by publishes in this process.",
        "# TYPE syndicator_feeds_published_total counter",
        f"syndicator_feeds_published_total {published}",
        "# HELP syndicator_served_files_changed_total Published files the server was told changed (by the publisher "
        "in this process or by file-system events).",
        "# TYPE syndicator_served_files_changed_total counter",
        f"syndicator_served_files_changed_total {counters.files_changed}",
        "# HELP syndicator_last_publish_ok 1 unless the last publish in this process failed.",
        "# TYPE syndicator_last_publish_ok gauge",
        f"syndicator_last_publish_ok {0 if last_error else 1}",
        "# HELP syndicator_translation_backlog Translations waiting, per target language.",
        "# TYPE syndicator_translation_backlog gauge",
    ]
    for lang, n in sorted(backlog.items()):
        out.append(f'syndicator_translation_backlog{{language="{lang}"}} {n}')
    return "\n".join(out) + "\n"
