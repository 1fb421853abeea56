"""Every benchmark script runs end to end at a tiny size, so none can rot (no numbers are checked: benchmarks
are not timed tests). They run side by side and together take well under a minute; scripts whose tools (wrk,
nginx, apertium) are missing exit with status 77 and are skipped."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench import newsgen
from tests.support.apertium import needs_mode

REPO = Path(__file__).resolve().parent.parent
BENCH = REPO / "bench"
SKIPPED = 77
# Modules the scripts import, not scripts.
MODULES = {"__init__.py", "newsgen.py", "candidate_app.py"}
# script -> (tiny arguments, "{tmp}" standing for a temp folder; a line its output must contain). translate_throughput.py has its own test below.
TINY = {
    "apertium_batch.py": (["5"], "same output"),
    "faithful_overhead.py": (["5"], "faithful / plain"),
    "drop_latency.py": (["--quick", "--json", "{tmp}/result.json"], "| backlog | es |"),
    "folder_poll.py": (["--quick"], "| unchanged folder |"),
    "gate_ratios.py": ([], "default bounds"),
    "import_cost.py": (["--quick"], "| syndicator.cli |"),
    "malloc_arenas.py": (["--quick", "--cache", "{tmp}/cache"], "| capped (the engine's default) |"),
    "poll_latency.py": (["--quick"], "backlog drained"),
    "publish_bench.py": (["--big", "30", "--small", "10", "--rounds", "2"], "ratio big/small"),
    "serve_bench.py": (["--quick"], "| full |"),
    "server_candidates.py": (["--quick"], "req/s over uvicorn+httptools+uvloop"),
    "slow_clients.py": (["--clients", "20", "--nofile", "256", "--samples", "3"], "healthz_flooded"),
    "status_render.py": (["--quick"], "| shared engine (now) |"),
    "sources_poll.py": (["--items", "5", "--pages", "3", "--rounds", "1"], "repeat poll"),
    "thread_layouts.py": (["--quick", "--cache", "{tmp}/cache"], "same round"),
    "translate_memory.py": (["--quick", "--cache", "{tmp}/cache"], "first-cycle peak / steady"),
    "pipeline_vs_raw.py": (["--quick", "--cache", "{tmp}/cache"], "pipeline ÷ raw per wall: median"),
}
# Scripts with a tiny run of their own below (it checks more of their output).
OWN_TEST = {"translate_throughput.py", "fidelity.py", "serve_memory.py", "celery_throughput.py"}
QUICK = ["--quick", "--cache", "{tmp}/cache", "--json", "{tmp}/result.json"]  # translate_throughput.py


@pytest.fixture(scope="module")
def started(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[dict[str, tuple[subprocess.Popen[str], Path]]]:
    """Every script's tiny run, started at once: they overlap (mostly waiting on wrk, servers and subprocesses),
    so the whole set takes about as long as the longest, not the sum."""
    runs = {}
    for script, args in {**{s: a for s, (a, _) in TINY.items()}, "translate_throughput.py": QUICK}.items():
        tmp = tmp_path_factory.mktemp(script.removesuffix(".py"))
        cmd = [sys.executable, str(BENCH / script), *(a.replace("{tmp}", str(tmp)) for a in args)]
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp)
        runs[script] = (proc, tmp)
    yield runs
    for proc, _ in runs.values():
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


def finished(started: dict[str, tuple[subprocess.Popen[str], Path]], script: str) -> tuple[str, Path]:
    """A script's output once it is done, from its temp folder; 77 (its tools are missing) skips."""
    proc, tmp = started[script]
    out, err = proc.communicate(timeout=600)
    if proc.returncode == SKIPPED:
        pytest.skip(out.strip())
    assert proc.returncode == 0, out + err
    return out, tmp


def test_every_script_has_a_tiny_run() -> None:
    scripts = {p.name for p in BENCH.glob("*.py")} - MODULES
    assert scripts == {*TINY, *OWN_TEST}, "give a new bench script a tiny run in TINY"


@pytest.mark.parametrize("script", sorted(TINY))
def test_script_runs_at_a_tiny_size(
    script: str, started: dict[str, tuple[subprocess.Popen[str], Path]]
) -> None:
    out, _ = finished(started, script)
    assert TINY[script][1] in out, out


def test_news_generator_is_deterministic_and_splits_cleanly() -> None:
    pool = newsgen.sentences(50)
    assert pool == newsgen.sentences(50) and len(set(pool)) == 50
    items = newsgen.articles(pool)
    assert [s for item in items for s in item.all_sentences()] == [
        s.rstrip(".") if i % 10 == 0 else s for i, s in enumerate(pool)
    ]


def test_benchmark_quick_mode(started: dict[str, tuple[subprocess.Popen[str], Path]]) -> None:
    out, tmp = finished(started, "translate_throughput.py")
    assert "CPU ms per sentence by stage" in out
    result = json.loads((tmp / "result.json").read_text(encoding="utf-8"))
    runs = result["throughput"]
    assert set(runs) == {"short/plain", "short/news", "long/plain", "long/news"}
    t = runs["short/plain"]
    assert set(t["median_rate"]) == {
        "argos-intra1", "raw-arrival-32", "raw-sorted-16", "pipeline", "inproc-raw-sorted-16",
    }  # fmt: skip
    # The in-process raw pass runs on the pipeline's own model: the ratio that leaves the process out.
    assert t["best_inproc_raw"] == {"pipeline": "inproc-raw-sorted-16"}
    assert "over_inproc-raw-sorted-16_wall" in t["ratios"]["pipeline"]
    # Same model, same sentences, same beam size: the contenders really translate the same work.
    assert t["identical_outputs"]["pipeline=argos-intra1"] == t["sentences"]
    assert set(t["stages_ms_per_sentence"]["pipeline"]) >= {"split", "protect", "tokenize", "model", "store"}
    # The long model writes about three times as many tokens as the short one.
    assert runs["long/plain"]["raw_output_tokens"] > 2 * t["raw_output_tokens"]
    update = result["update"]
    assert update["first_publish_sentences"] == 40 * 5
    assert update["update_sentences"] == 5  # one changed sentence, five languages
    assert all(stats["misses"] == 41 for stats in update["memory"].values())
    assert update["peak_rss_mb"] > 0


@needs_mode("eng-spa", "apertium-eng-spa")
def test_fidelity_benchmark_tiny(tmp_path: Path) -> None:
    out = tmp_path / "fidelity.json"
    proc = subprocess.run(
        [sys.executable, str(REPO / "bench" / "fidelity.py"), "--tiny", "--json", str(out)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    assert "| es (eng-spa) |" in proc.stdout
    result = json.loads(out.read_text(encoding="utf-8"))
    spanish = result["languages"]["es"]["syndicator"]
    assert spanish["debris"] == 0 and spanish["paragraphs"] == "4/4"
    assert result["names"]["kept"]


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
