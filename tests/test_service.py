"""`syndicator run` as a service: polls on schedule, publishes new work, stops cleanly on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import feedparser


def _wait_for(check: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.2)
    return False


def _entries(path: Path) -> int:
    return len(feedparser.parse(path.read_bytes()).entries) if path.exists() else -1


def test_service_publishes_new_articles_and_stops_on_sigterm(make_instance: Callable[..., Path]) -> None:
    root = make_instance(articles=["2026-03-01-harbour-bridge"], engine="pseudo", targets=("fr",))
    config = root / "config" / "syndicator.toml"
    config.write_text(
        config.read_text(encoding="utf-8").replace('every = "5m"', 'every = "10s"'), encoding="utf-8"
    )
    fr = root / "feeds" / "fr" / "atom.xml"
    proc = subprocess.Popen(
        [sys.executable, "-m", "syndicator", "--config", str(config), "run"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert _wait_for(lambda: _entries(fr) == 1, 30), "the first poll was not published"
        src = Path(__file__).parent / "data" / "articles" / "2026-03-02-school-garden.md"
        (root / "articles" / src.name).write_text(src.read_text(encoding="utf-8"), encoding="utf-8")
        assert _wait_for(lambda: _entries(fr) == 2, 40), "a new article was not picked up on the next poll"
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, out
    assert "stopping" in out
