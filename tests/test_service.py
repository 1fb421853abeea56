"""`syndicator run` as a service: polls on schedule, publishes new work, stops cleanly on SIGTERM."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import feedparser

from tests.support.edits import edit_file
from tests.support.service import ServiceProcess, wait_for


def _entries(path: Path) -> int:
    return len(feedparser.parse(path.read_bytes()).entries) if path.exists() else -1


def test_service_publishes_new_articles_and_stops_on_sigterm(make_instance: Callable[..., Path]) -> None:
    root = make_instance(articles=["2026-03-01-harbour-bridge"], engine="pseudo", targets=("fr",))
    edit_file(root / "config" / "syndicator.toml", 'every = "5m"', 'every = "10s"')
    fr = root / "feeds" / "fr" / "atom.xml"
    with ServiceProcess(root) as service:
        wait_for(lambda: _entries(fr) == 1, "the first poll to be published")
        src = Path(__file__).parent / "data" / "articles" / "2026-03-02-school-garden.md"
        tmp = root / "articles" / f".{src.name}.tmp"  # dropped whole, by rename, as a newsroom tool should
        tmp.write_text(src.read_text(encoding="utf-8"), encoding="utf-8")
        os.replace(tmp, root / "articles" / src.name)
        wait_for(lambda: _entries(fr) == 2, "the new article to be picked up on the next poll")
        code = service.terminate()
    assert code == 0, service.log()
    assert "stopping" in service.log()
