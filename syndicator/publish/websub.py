"""WebSub publisher side: tell each configured hub which feeds changed after a publish."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence

from syndicator.config import Config
from syndicator.http import FetchError, post_form
from syndicator.models import CycleReport

log = logging.getLogger(__name__)

FEED_FILES = ("rss.xml", "atom.xml", "feed.json")
TIMEOUT = 10.0


def changed_feed_urls(feeds_url: str, written: Iterable[str]) -> list[str]:
    """The public URLs of the feed documents among the written relpaths."""
    return sorted({feeds_url + rel for rel in written if rel.rsplit("/", 1)[-1] in FEED_FILES})


def ping_hubs(hubs: Sequence[str], feed_urls: Sequence[str], timeout: float = TIMEOUT) -> dict[str, str]:
    """POST hub.mode=publish once per hub and changed feed; return problems by hub (never raises)."""
    problems: dict[str, str] = {}
    for hub in hubs:
        for url in feed_urls:
            try:
                status = post_form(hub, {"hub.mode": "publish", "hub.url": url}, timeout)
            except FetchError as exc:
                problems[hub] = str(exc)
                break  # a hub that is down gets one log line, not one per feed
            if status >= 300:
                problems[hub] = f"POST {hub} answered {status} for {url}"
    for problem in problems.values():
        log.warning("WebSub hub not notified: %s", problem)
    return problems


def publish_listener(config: Config) -> Callable[[CycleReport, str], None]:
    """A pipeline publish listener that pings the configured hubs about the feeds that changed."""

    def listener(report: CycleReport, error: str) -> None:
        urls = changed_feed_urls(config.site.feeds_url, report.written)
        if urls:
            ping_hubs(config.serve.hubs, urls)

    return listener
