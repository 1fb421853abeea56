"""Crash safety: `kill -9` the running service inside its translate and publish stages, restart it, and check
nothing is lost, duplicated or ever half-written.

Kills are aimed: each life of the service records the fault points it reaches (syndicator/faults.py, record
mode: every store commit and feed write, flushed as it happens), the test waits for the first point of the
stage it aims at, then kills after a short seeded delay. Where each kill really landed is read back from the
same record (the last point reached), and the test asserts a minimum number inside each stage.
tests/test_fault_injection.py kills at every point systematically; this test adds concurrency (articles
arriving while the service lives and dies, readers parsing every feed the whole time) and the service.
"""

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

from syndicator import faults
from syndicator.config import load_config
from syndicator.store import Store
from tests.conftest import REPO, write_config
from tests.support.published import history, keys
from tests.support.service import LIVENESS, ServiceProcess, wait_for, write_article

FEED_FILES = ("rss.xml", "atom.xml", "feed.json")
TRANSLATE, PUBLISH = "translate", "publish"
# Store methods whose commits belong to each stage (a point's label is the method that opened the commit);
# every feed write belongs to publishing.
STAGE_COMMITS = {
    TRANSLATE: (
        "save_translation",
        "translation_memory_store",
        "translation_memory_count",
        "apply_correction",
    ),
    PUBLISH: ("begin_publish", "commit_publish", "record_publish"),
}


def _stage(line: str) -> str:
    """The stage a recorded point (kind, label, normalized label) belongs to, or ""."""
    kind, label, _normalized = line.split("\t")
    if kind in (faults.WRITE, faults.DELETE):
        return PUBLISH
    method = label.rsplit(".", 1)[-1]
    return next((stage for stage, methods in STAGE_COMMITS.items() if method in methods), "")


def _points(record: Path) -> list[str]:
    try:
        return record.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return []


def _reached(record: Path, stage: str, deadline: float) -> bool:
    """Wait (polling closely: a publish lasts a fraction of a second) for the first point of `stage`."""
    while time.monotonic() < deadline:
        if any(_stage(line) == stage for line in _points(record)):
            return True
        time.sleep(0.002)
    return False


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
            for path in sorted([*self.feeds.glob("*/*"), *self.feeds.glob("*/archive/*/*")]):
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
    """The items of the current feed and every archive page, through the RFC 5005 links."""
    items: list[dict[str, object]] = []
    url: str | None = f"{lang}/feed.json"
    while url:
        doc = json.loads((root / "feeds" / url).read_bytes())
        items += doc["items"]
        url = (
            str(doc["next_url"]).removeprefix("https://news.example.org/feeds/")
            if doc.get("next_url")
            else None
        )
    return items


def _all_published(root: Path, languages: tuple[str, ...], expected: set[str]) -> bool:
    try:
        return all(keys(history(root / "feeds", lang)) == sorted(expected) for lang in languages)
    except (AssertionError, ValueError, KeyError):
        return False


def _crash_run(
    root: Path,
    languages: tuple[str, ...],
    article_languages: tuple[str, ...],
    kills: int,
    seed: int,
    slow: float,
    at_least: int,
    hold_translate: bool = False,
) -> None:
    rng = random.Random(seed)
    (root / "feeds").mkdir(exist_ok=True)
    watcher = FeedWatcher(root / "feeds")
    watcher.start()
    stories: set[str] = set()
    stop_writing = threading.Event()
    count = 0
    numbering = threading.Lock()

    def story() -> None:
        nonlocal count
        with numbering:
            n, count = count, count + 1
        lang = article_languages[n % len(article_languages)]
        key = f"story-{n:03d}"
        write_article(root / "articles", key, f"Story {n}", f"Story number {n}. It has two sentences.", lang,
                      day=1 + n % 28)  # fmt: skip
        stories.add(key)

    def newsroom() -> None:
        # More articles arrive while the service lives and dies.
        while not stop_writing.is_set() and count < 60:
            story()
            time.sleep(rng.uniform(0.1, 0.6))

    landed = {TRANSLATE: 0, PUBLISH: 0}
    try:
        for life in range(kills):
            aim = (TRANSLATE, PUBLISH)[life % 2]
            for _ in article_languages:
                story()  # work for this life, whatever the stream brings
            if life == 1:
                threading.Thread(target=newsroom, daemon=True).start()
            record = root / f"points-{life}.tsv"
            env = {faults.ENV: f"record {record}", "SLOW_ARGOS_QUEUE_DELAY": str(slow)}
            held = hold_translate and aim == TRANSLATE
            if held:
                # A real model translates these few sentences in milliseconds and saves them all at the end of
                # the stage: a timed kill lands in publishing. The service stops after its first saved
                # translation until the kill (tests/support/slow_run.py).
                hold = root / f"hold-{life}"
                hold.touch()
                env |= {"SLOW_HOLD_FILE": str(hold), "SLOW_HOLD_AFTER": "save_translation"}
            with ServiceProcess(root, slow=slow, env=env) as service:
                if held:
                    inside = Path(f"{hold}.inside")
                    deadline = time.monotonic() + LIVENESS
                    while not inside.exists() and time.monotonic() < deadline:
                        time.sleep(0.01)
                    reached = inside.exists()
                else:
                    reached = _reached(record, aim, time.monotonic() + LIVENESS)
                    # Short: a translate stage lasts a few slowed batches, a publish a fraction of a second.
                    time.sleep(rng.uniform(0.0, 0.05 if aim == PUBLISH else 0.08))
                service.kill9()
                if held:
                    hold.unlink()
            assert reached, f"life {life}: the service never reached its {aim} stage"
            last = _points(record)[-1]
            finished = "published:" in service.log().split("processing:")[-1]
            if _stage(last) and not (finished and _stage(last) == PUBLISH):
                landed[_stage(last)] += 1
        print(f"{kills} kills: {landed[TRANSLATE]} inside translating, {landed[PUBLISH]} inside publishing")
        assert min(landed.values()) >= at_least, landed
        stop_writing.set()
        # A last life, left alone: everything written so far must come out, exactly once per language.
        with ServiceProcess(root, slow=slow) as service:
            wait_for(lambda: "processing:" in service.log(), "the service to start its first pass")
            wait_for(lambda: _all_published(root, languages, stories), "every article in every language feed")
            assert service.terminate() == 0
    finally:
        stop_writing.set()
        watcher.stop.set()
        watcher.join()
    assert watcher.reads > 0
    assert not watcher.bad, watcher.bad[:5]
    for lang in languages:
        assert keys(history(root / "feeds", lang)) == sorted(stories), (
            lang
        )  # each once: no loss, no duplicate
    from syndicator.cli import main

    assert main(["-q", "--config", str(root / "config" / "syndicator.toml"), "verify"]) == 0
    store = Store(load_config(root / "config" / "syndicator.toml").store.url)
    try:
        assert store.integrity_check() == "ok"
        assert store.pending() == []
        assert store.article_count() == len(stories)
    finally:
        store.close()
    assert not [p for p in (root / "feeds").rglob("*") if p.name.endswith(".tmp")]


def _instance(tmp_path: Path, targets: tuple[str, ...], engine: str) -> Path:
    root = tmp_path / "crash"
    (root / "articles").mkdir(parents=True)
    (root / "models").mkdir()
    shutil.copytree(REPO / "locales", root / "locales")
    # Few entries per document: archive pages fill and roll over while the service is killed.
    write_config(root, targets=targets, engine=engine, extra="\n[publish]\nmax_entries = 4\n")
    return root


def test_kill_9_at_random_moments_pseudo(tmp_path: Path) -> None:
    languages = ("en", "fr", "de")
    root = _instance(tmp_path, ("fr", "de"), "pseudo")
    # Articles arrive in all three languages; each is translated into the other two.
    _crash_run(root, languages, ("en", "fr", "de"), kills=10, seed=7, slow=0.1, at_least=3)
    for lang in languages:
        for item in _feed_items(root, lang):
            assert str(item.get("language", lang)) == lang


def test_kill_9_with_a_real_tiny_argos_model(tmp_path: Path, model_files: Callable[[str, str], Path]) -> None:
    from syndicator.cli import main

    root = _instance(tmp_path, ("fr",), "argos")
    config = str(root / "config" / "syndicator.toml")
    assert main(["-q", "--config", config, "models", "install", str(model_files("en", "fr"))]) == 0
    # Slowed like the pseudo run: the tiny model translates an article in milliseconds, faster than an aimed kill.
    _crash_run(root, ("en", "fr"), ("en",), kills=4, seed=11, slow=0.1, at_least=1, hold_translate=True)
    store = Store(load_config(root / "config" / "syndicator.toml").store.url)
    try:
        counts = store.counts()
    finally:
        store.close()
    assert set(counts["fr"]) == {"done"}, counts


pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
