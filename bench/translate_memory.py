"""First-cycle memory: the peak RSS while a backlog is translated into five languages, against the steady state.

Two cases, each a fresh process on a fresh instance (the real CLI: packages installed by another process,
so unzipping is not counted; then one `run --once` measured): "backlog", a first cycle over --articles new
articles (newsgen sentences, 10 each) in a drop folder; "steady", a cycle over --later new articles (what a
running service does each cycle, with every pair loaded). The peak is the process's high-water mark (VmHWM,
reset through /proc/self/clear_refs just before the cycle). The cases alternate, --rounds of each; medians.
glibc keeps what it once took, so a backlog's peak stays the process's size until a restart.

Target (issue 15): the backlog's peak <= 1.2x the steady cycle's.

    .venv/bin/python bench/translate_memory.py                # base-sized models, 300 articles (~3000 sentences)
    .venv/bin/python bench/translate_memory.py --quick        # tiny models, 30 articles (used by a test)
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "bench")]

import newsgen  # noqa: E402
from translate_throughput import BASE, TARGETS, TINY, build_models, make_instance  # noqa: E402


def _status(key: str) -> float:
    """A /proc/self/status field in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
    raise KeyError(key)


def _reset_peak() -> None:
    Path("/proc/self/clear_refs").write_text("5")  # VmHWM := VmRSS (Linux 4.0+)


def _write_articles(folder: Path, sentences: list[str], first: int) -> None:
    for n, item in enumerate(newsgen.articles(sentences), first):
        paragraphs = "\n\n".join(" ".join(p) for p in item.paragraphs)
        (folder / f"a{n:05d}.md").write_text(
            f"---\ntitle: {item.title}\ndate: 2026-03-03T09:00:00Z\nsummary: {item.summary}\n---\n\n{paragraphs}\n",
            encoding="utf-8",
        )


def measure(spec: dict[str, Any]) -> dict[str, Any]:
    """The measured process: one cycle through the CLI over `articles` new articles."""
    from syndicator.cli import main

    root = Path(spec["root"])
    _write_articles(root / "articles", newsgen.sentences(10 * spec["articles"], seed=3), 0)
    out: dict[str, Any] = {"rss_mb_before": round(_status("VmRSS"), 1)}
    import syndicator.pipeline as cycle

    # The high-water mark after each stage of the cycle: which one raised the peak.
    def after(stage: str, run: Any) -> Any:
        def measured(ctx: Any, report: Any) -> None:
            run(ctx, report)
            out[f"peak_mb_after_{stage}"] = round(_status("VmHWM"), 1)

        return measured

    for stage in ("collect", "translate", "publish"):
        setattr(cycle, stage, after(stage, getattr(cycle, stage)))
    _reset_peak()
    started = time.perf_counter()
    assert main(["--config", str(root / "config" / "syndicator.toml"), "-q", "run", "--once"]) == 0
    out["seconds"] = round(time.perf_counter() - started, 1)
    out["peak_mb"] = round(_status("VmHWM"), 1)
    out["rss_mb_after"] = round(_status("VmRSS"), 1)
    return out


def instance(root: Path, zips: list[str]) -> None:
    """A fresh instance translating into TARGETS, with the packages installed (by another process)."""
    make_instance(root, list(TARGETS), beam=2)
    config = ["--config", str(root / "config" / "syndicator.toml"), "-q"]
    subprocess.run(
        [sys.executable, "-m", "syndicator", *config, "models", "install", *zips],
        check=True,
        cwd=REPO,
        stdout=subprocess.DEVNULL,
    )


def main() -> int:
    """Build (or reuse) the models, set up the instance, run the measured process."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--articles", type=int, default=300, help="backlog articles (10 sentences each)")
    parser.add_argument("--later", type=int, default=5, help="new articles in the later cycle")
    parser.add_argument("--rounds", type=int, default=3, help="fresh processes per case (default 3)")
    parser.add_argument("--quick", action="store_true", help="tiny models, 30 articles (for tests)")
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "syndicator-bench")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(measure(json.loads(args.worker))), flush=True)
        return 0
    if args.quick:
        args.articles, args.rounds = min(args.articles, 30), 1
    models = build_models(args.cache, TINY if args.quick else BASE, TARGETS)
    zips = [str(next((p.parent.parent / "zips").glob("*.argosmodel"))) for p in models.values()]
    result: dict[str, Any] = {}
    # The steady state first, then the backlog, alternating by round; each a fresh process and instance.
    for r in range(args.rounds):
        runs = (("steady", args.later), ("backlog", args.articles))
        for name, articles in runs if r % 2 == 0 else runs[::-1]:
            with tempfile.TemporaryDirectory(prefix="bench-memory-") as tmp:
                instance(Path(tmp), zips)
                spec = {"root": tmp, "articles": articles}
                proc = subprocess.run(
                    [sys.executable, __file__, "--worker", json.dumps(spec)], capture_output=True, text=True
                )
            if proc.returncode:
                sys.stderr.write(proc.stderr)
                return proc.returncode
            result.setdefault(name, []).append(json.loads(proc.stdout.strip().splitlines()[-1]))
    steady = statistics.median(x["peak_mb"] for x in result["steady"])
    peak = statistics.median(x["peak_mb"] for x in result["backlog"])
    result["peak_over_steady"] = ratio = round(peak / steady, 3)
    size = "tiny" if args.quick else "base-sized"
    print(f"{len(TARGETS)} languages, {size} models, median of {args.rounds} fresh processes each:")
    print(f"  steady (a cycle of {args.later} new articles, every pair loaded): peak {steady:.1f} MB")
    print(
        f"  backlog (a first cycle of {args.articles} articles, {10 * args.articles} sentences): peak {peak:.1f} MB"
    )
    for name in ("steady", "backlog"):
        stages = ("collect", "translate", "publish")
        after = {k: statistics.median(x[f"peak_mb_after_{k}"] for x in result[name]) for k in stages}
        print(f"  {name}: peak after collecting {after['collect']:.1f} MB, after translating "
              f"{after['translate']:.1f} MB, after publishing {after['publish']:.1f} MB")  # fmt: skip
    print(f"first-cycle peak / steady: {ratio:.2f}x (target <= 1.2: {'met' if ratio <= 1.2 else 'NOT met'})")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
