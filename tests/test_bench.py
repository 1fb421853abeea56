"""The translation benchmark runs end to end in its tiny mode (numbers are not checked: no timed assertions)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from bench import newsgen

REPO = Path(__file__).resolve().parent.parent


def test_news_generator_is_deterministic_and_splits_cleanly() -> None:
    pool = newsgen.sentences(50)
    assert pool == newsgen.sentences(50) and len(set(pool)) == 50
    items = newsgen.articles(pool)
    assert [s for item in items for s in item.all_sentences()] == [
        s.rstrip(".") if i % 10 == 0 else s for i, s in enumerate(pool)
    ]


def test_benchmark_quick_mode(tmp_path: Path) -> None:
    out = tmp_path / "result.json"
    script = REPO / "bench" / "translate_throughput.py"
    proc = subprocess.run(
        [sys.executable, str(script), "--quick", "--cache", str(tmp_path / "cache"), "--json", str(out)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    assert "pipeline / argostranslate per sentence" in proc.stdout
    result = json.loads(out.read_text(encoding="utf-8"))
    t = result["throughput"]
    assert set(t["best_rates"]) == {"argos", "raw", "pipeline"}
    # Same model, same sentences, same beam size: the contenders really translate the same work.
    assert t["identical_outputs"]["pipeline=argos"] == t["sentences"]
    update = result["update"]
    assert update["first_publish_sentences"] == 40 * 5
    assert update["update_sentences"] == 5  # one changed sentence, five languages
    assert all(stats["misses"] == 41 for stats in update["memory"].values())
    assert update["peak_rss_mb"] > 0


def test_serve_memory_benchmark_tiny(tmp_path: Path) -> None:
    """bench/serve_memory.py end to end at a tiny size, against a baseline checked out by git archive."""
    out = tmp_path / "serve.json"
    in_git = (
        subprocess.run(["git", "-C", str(REPO), "rev-parse", "HEAD"], capture_output=True).returncode == 0
    )
    proc = subprocess.run(
        [sys.executable, str(REPO / "bench" / "serve_memory.py"), "--sizes", "40,120", "--crawl", "30",
         "--idle", "0.2", "--repeat", "1", "--baseline", "HEAD" if in_git else "", "--json", str(out)],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    results = json.loads(out.read_text(encoding="utf-8"))["results"]
    assert [r["files"] for r in results] == [40] * (1 + in_git) + [120] * (1 + in_git)
    for r in results:
        assert r["ready_s"] > 0 and r["rss_ready_mb"] > 0 and r["rss_crawled_mb"] >= r["rss_ready_mb"] * 0.5
