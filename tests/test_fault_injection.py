"""Systematic fault injection: every write and every commit of a cycle, killed just before, just after, or
failing as on a full disk; then a restart must leave nothing lost, doubled or dangling.

The points are not listed here. The only feed writer and the store's only transaction helper declare each
write, delete and commit to syndicator/faults.py; a recording run of the scenario lists the points it
reaches, so a new write or commit anywhere is covered without touching this test. Labels are normalized
(`fr/archive/3/rss.xml` → `<lang>/archive/<n>/rss.xml`, a commit by the store method that opened it), and
each distinct kind is hit at its first occurrence three ways: SIGKILL just before it, SIGKILL just after it,
ENOSPC (SQLite's "database or disk is full" for a commit). Each run is the real CLI, `syndicator run --once`
in a subprocess, on a fresh copy of one instance (English articles, a tiny real Argos model for French, 5
entries per feed document so archive pages roll over). Then the restart — `run --once`, and `publish` as the
issue's reproduction did — and the checks: every article exactly once per language across the current feed
and its archive pages (an independent RFC 5005 reader), every link into the tree resolves and `syndicator
verify` is clean, PRAGMA integrity_check is ok, nothing is left pending, no temp file is left.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from syndicator import faults
from syndicator.cli import main
from syndicator.config import load_config
from syndicator.store import Store
from tests.conftest import DATA, build_instance
from tests.support.published import history, keys
from tests.support.service import LIVENESS, REPO, write_article

LANGUAGES = ("en", "fr")
BEFORE, AFTER = 8, 12  # articles published by the baseline, and after the scenario
PARALLEL = 2  # runs side by side (CI has two cores; each run is mostly one process at a time)


def _cli(root: Path, *args: str) -> int:
    return main(["-q", "--config", str(root / "config" / "syndicator.toml"), *args])


def _story(root: Path, n: int) -> None:
    write_article(
        root / "articles", f"story-{n:02d}", f"Story {n}", f"Story number {n}. It is news.", day=1 + n
    )


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory, model_files: Callable[[str, str], Path]) -> Path:
    """8 articles published in en and fr (a real tiny en→fr Argos model), 5 entries per document."""
    root = build_instance(
        tmp_path_factory.mktemp("faults") / "baseline",
        articles=(),
        targets=("fr",),
        extra="\n[publish]\nmax_entries = 5\n",
    )
    assert _cli(root, "models", "install", str(model_files("en", "fr"))) == 0
    for n in range(BEFORE):
        _story(root, n)
    assert _cli(root, "run", "--once") == 0
    return root


def _scenario(root: Path) -> None:
    """What the interrupted cycle has to do: four new articles (archive pages roll over), one of them with a
    lead image shipped beside it, an edit of an archived and of a current article (retranslation), and a human
    correction."""
    for n in range(BEFORE, AFTER):
        _story(root, n)
    (root / "articles" / "images").mkdir(exist_ok=True)
    shutil.copy(DATA / "images" / "images" / "ferry.png", root / "articles" / "images" / "lead.png")
    story = root / "articles" / f"story-{AFTER - 1:02d}.md"
    story.write_text(
        story.read_text(encoding="utf-8").replace("\nid:", "\nimage: images/lead.png\nid:", 1),
        encoding="utf-8",
    )
    write_article(root / "articles", "story-01", "Story 1", "Story number 1, corrected. It is news.", day=2)
    write_article(root / "articles", "story-06", "Story 6", "Story number 6, updated. It is news.", day=7)
    correction = root / "corrections" / "fr" / "newsroom" / "story-03.md"
    correction.parent.mkdir(parents=True, exist_ok=True)
    correction.write_text(
        textwrap.dedent("""\
            ---
            title: Histoire 3
            ---
            Histoire numéro 3, relue.
            """),
        encoding="utf-8",
    )


def _copy(baseline: Path, dest: Path) -> Path:
    shutil.copytree(baseline, dest, symlinks=True)
    _scenario(dest)
    return dest


def _run_once(root: Path, spec: str) -> subprocess.CompletedProcess[str]:
    """`syndicator run --once` in a subprocess with SYNDICATOR_FAULTS=spec."""
    env = {**os.environ, "PYTHONPATH": str(REPO), faults.ENV: spec}
    return subprocess.run(
        [sys.executable, "-m", "syndicator", "-q", "--config", str(root / "config" / "syndicator.toml"), "run",
         "--once"],
        cwd=root, env=env, capture_output=True, text=True, timeout=LIVENESS,
    )  # fmt: skip


@dataclass(frozen=True)
class Kind:
    """One kind of point (normalized), as the recording run met it."""

    kind: str
    label: str
    example: str  # the first real label


def _record(baseline: Path, tmp: Path) -> tuple[int, list[Kind]]:
    root = _copy(baseline, tmp / "record")
    log = tmp / "points.tsv"
    result = _run_once(root, f"record {log}")
    assert result.returncode == 0, result.stderr
    kinds: dict[tuple[str, str], Kind] = {}
    lines = log.read_text(encoding="utf-8").splitlines()
    for line in lines:
        kind, label, normalized = line.split("\t")
        kinds.setdefault((kind, normalized), Kind(kind, normalized, label))
    return len(lines), list(kinds.values())


def _recover(root: Path, what: str) -> None:
    """Restart: one `run --once` finishes what the killed or failed one left."""
    assert _cli(root, "run", "--once") == 0, what


def _check(root: Path, what: str) -> None:
    assert _cli(root, "publish") == 0, what
    feeds = root / "feeds"
    expected = [f"story-{n:02d}" for n in range(AFTER)]
    for lang in LANGUAGES:
        assert keys(history(feeds, lang)) == expected, f"{what}: {lang}"
    assert _cli(root, "verify") == 0, what
    store = Store(load_config(root / "config" / "syndicator.toml").store.url)
    try:
        assert store.integrity_check() == "ok", what
        assert store.pending() == [], what
        assert store.counts()["fr"] == {"done": AFTER}, what
    finally:
        store.close()
    assert not [p for p in feeds.rglob("*") if p.name.endswith(".tmp")], what


def test_every_write_and_commit_killed_before_after_or_failing(
    baseline: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    started = time.monotonic()
    points, kinds = _record(baseline, tmp_path)
    names = {(k.kind, k.label) for k in kinds}
    # The enumeration found the points this test is about (not a list to keep up to date: a floor).
    assert {
        (faults.WRITE, "<lang>/archive/<n>/rss.xml"),
        (faults.WRITE, "<lang>/<source>/<entry>.html"),
        (faults.WRITE, "<lang>/feed.json"),
        (faults.COMMIT, "TranslationsMixin.save_translation"),
        (faults.COMMIT, "TranslationMemoryMixin.translation_memory_store"),
        (faults.COMMIT, "PublishingMixin.commit_publish"),
        (faults.COMMIT, "MediaMixin.save_media"),
        (faults.WRITE, "media/<hash>.png"),
    } <= names, sorted(names)

    runs = [(mode, k) for k in kinds for mode in faults.MODES]

    def crash(index: int, mode: str, k: Kind) -> tuple[str, Path, subprocess.CompletedProcess[str]]:
        root = _copy(baseline, tmp_path / f"run-{index:03d}")
        result = _run_once(root, f"{mode} {k.kind} {k.label} 1")
        return f"{mode} {k.kind} {k.label} ({k.example})", root, result

    with ThreadPoolExecutor(PARALLEL) as pool:
        crashed = list(pool.map(lambda args: crash(*args), [(i, m, k) for i, (m, k) in enumerate(runs)]))
    for (mode, _k), (what, root, result) in zip(runs, crashed, strict=True):
        if mode == faults.ENOSPC:  # reported in one line (exit 1), or absorbed (a failed language goes on)
            assert result.returncode in (0, 1), f"{what}\n{result.stderr}"
            assert "Traceback" not in result.stderr, f"{what}\n{result.stderr}"
        else:
            assert result.returncode == -9, f"{what}: the point was not reached\n{result.stderr}"
        _recover(root, what)
        _check(root, what)
    with capsys.disabled():
        print(
            f"\nfault injection: {points} points in the scenario, {len(kinds)} kinds, {len(runs)} runs, "
            f"{time.monotonic() - started:.0f} s"
        )
