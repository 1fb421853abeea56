"""Crash safety: `kill -9` the running service at random moments, restart it, and check nothing is lost,
duplicated or ever half-written."""

from __future__ import annotations

import json
import random
import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path

import feedparser
import pytest
from lxml import etree

from syndicator.config import load_config
from syndicator.store import Store
from tests.conftest import REPO, write_config
from tests.support.edits import replaced
from tests.support.service import ServiceProcess, wait_for, write_article

FEED_FILES = ("rss.xml", "atom.xml", "feed.json")


class FeedWatcher(threading.Thread):
    """Reads and parses every feed file over and over while the service runs and dies."""

    def __init__(self, feeds: Path) -> None:
        super().__init__(daemon=True)
        self.feeds = feeds
        self.stop = threading.Event()
        self.reads = 0
        self.bad: list[str] = []

    def run(self) -> None:
        while not self.stop.is_set():
            for path in sorted(self.feeds.glob("*/*")):
                if path.name not in FEED_FILES:
                    continue
                try:
                    data = path.read_bytes()
                except FileNotFoundError:
                    continue
                self.reads += 1
                problem = self.check(path.name, data)
                if problem:
                    self.bad.append(f"{path}: {problem}")

    @staticmethod
    def check(name: str, data: bytes) -> str:
        try:
            if name == "feed.json":
                items = json.loads(data)["items"]
                assert isinstance(items, list)
                return ""
            etree.fromstring(data)  # a half-written file is not well-formed XML
        except Exception as exc:
            return f"{type(exc).__name__}: {exc}"
        parsed = feedparser.parse(data)
        return f"feedparser: {parsed.get('bozo_exception')}" if parsed.bozo else ""


def _feed_items(root: Path, lang: str) -> list[dict[str, object]]:
    items: list[dict[str, object]] = json.loads((root / "feeds" / lang / "feed.json").read_bytes())["items"]
    return items


def _key_of(item: dict[str, object]) -> str:
    return str(item["url"]).rsplit("/", 1)[-1].removesuffix(".html")


def _all_published(root: Path, languages: tuple[str, ...], keys: set[str]) -> bool:
    try:
        return all({_key_of(i) for i in _feed_items(root, lang)} == keys for lang in languages)
    except (FileNotFoundError, ValueError, KeyError):
        return False


def _crash_run(
    root: Path,
    languages: tuple[str, ...],
    article_languages: tuple[str, ...],
    kills: int,
    seed: int,
    slow: float,
) -> None:
    rng = random.Random(seed)
    (root / "feeds").mkdir(exist_ok=True)
    watcher = FeedWatcher(root / "feeds")
    watcher.start()
    keys: set[str] = set()
    stop_writing = threading.Event()

    def newsroom() -> None:
        # A stream of articles in several languages while the service lives and dies.
        n = 0
        while not stop_writing.is_set() and n < 40:
            lang = article_languages[n % len(article_languages)]
            key = f"story-{n:03d}"
            write_article(root / "articles", key, f"Story {n}", f"Story number {n}. It has two sentences.", lang,
                          day=1 + n % 28)  # fmt: skip
            keys.add(key)
            n += 1
            time.sleep(rng.uniform(0.05, 0.4))

    writer = threading.Thread(target=newsroom, daemon=True)
    writer.start()
    try:
        interrupted = 0
        for _ in range(kills):
            with ServiceProcess(root, slow=slow) as service:
                time.sleep(rng.uniform(1.0, 7.0))  # start-up plus the 2 s debounce take ~3 s
                service.kill9()
            interrupted += (
                "processing:" in service.log() and "published:" not in service.log().split("processing:")[-1]
            )
        # How often the kill landed inside a translate-and-publish pass (timing-dependent, so reported only).
        print(f"{kills} kills, {interrupted} inside a translate-and-publish pass")
        stop_writing.set()
        writer.join()
        # A last life, left alone: everything written so far must come out, exactly once per language.
        with ServiceProcess(root, slow=slow) as service:
            wait_for(lambda: "processing:" in service.log(), "the service to start its first pass")
            wait_for(lambda: _all_published(root, languages, keys), "every article in every language feed")
            assert service.terminate() == 0
    finally:
        stop_writing.set()
        watcher.stop.set()
        watcher.join()
    assert watcher.reads > 0
    assert not watcher.bad, watcher.bad[:5]
    for lang in languages:
        items = _feed_items(root, lang)
        assert sorted(_key_of(i) for i in items) == sorted(keys), lang  # each once: no loss, no duplicate
    store = Store(load_config(root / "config" / "syndicator.toml").store.url)
    try:
        assert store.integrity_check() == "ok"
        assert store.pending() == []
        assert store.article_count() == len(keys)
    finally:
        store.close()
    assert not [p for p in (root / "feeds").rglob("*") if p.name.endswith(".tmp")]


def _instance(tmp_path: Path, targets: tuple[str, ...], engine: str) -> Path:
    root = tmp_path / "crash"
    (root / "articles").mkdir(parents=True)
    (root / "models").mkdir()
    shutil.copytree(REPO / "locales", root / "locales")
    write_config(root, targets=targets, engine=engine, extra="")
    config = root / "config" / "syndicator.toml"
    # Room for every article in every feed, so "exactly once" can be checked on the feeds themselves.
    config.write_text(
        replaced(config.read_text(), "[[source]]", "[publish]\nmax_entries = 500\n\n[[source]]")
    )
    return root


def test_kill_9_at_random_moments_pseudo(tmp_path: Path) -> None:
    languages = ("en", "fr", "de")
    root = _instance(tmp_path, ("fr", "de"), "pseudo")
    # Articles arrive in all three languages; each is translated into the other two.
    _crash_run(root, languages, ("en", "fr", "de"), kills=10, seed=7, slow=0.1)
    for lang in languages:
        for item in _feed_items(root, lang):
            assert str(item.get("language", lang)) == lang


def test_kill_9_with_a_real_tiny_argos_model(tmp_path: Path, model_files: Callable[[str, str], Path]) -> None:
    from syndicator.cli import main

    root = _instance(tmp_path, ("fr",), "argos")
    config = str(root / "config" / "syndicator.toml")
    assert main(["-q", "--config", config, "models", "install", str(model_files("en", "fr"))]) == 0
    _crash_run(root, ("en", "fr"), ("en",), kills=4, seed=11, slow=0.0)
    store = Store(load_config(root / "config" / "syndicator.toml").store.url)
    try:
        counts = store.counts()
    finally:
        store.close()
    assert set(counts["fr"]) == {"done"}, counts


pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
