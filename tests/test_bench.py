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


def test_celery_benchmark_quick_mode(tmp_path: Path, postgres: object, rabbitmq: object) -> None:
    """bench/celery_throughput.py end to end at a tiny size (it starts its own PostgreSQL and RabbitMQ; the
    fixtures only skip it where those are not installed)."""
    out = tmp_path / "result.json"
    script = REPO / "bench" / "celery_throughput.py"
    proc = subprocess.run(
        [sys.executable, str(script), "--quick", "--cache", str(tmp_path / "cache"), "--json", str(out)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "2 workers / 1 worker" in proc.stdout and "queue overhead" in proc.stdout
    result = json.loads(out.read_text(encoding="utf-8"))
    rows = result["throughput"]
    assert set(rows) == {"in-process", "celery, 1 worker", "celery, 2 workers"}
    assert all(row["translations"] == 4 * 2 for row in rows.values())  # every article, every language
    assert result["overhead"]["tasks"] == 10
