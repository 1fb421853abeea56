"""Peak memory with glibc's malloc arenas capped (what ArgosPair does before CTranslate2 starts) and without.

The claim it backs (docs/translation-performance.md, `_limit_malloc_arenas` in syndicator/translate/argos.py):
with several language pairs of `translation.threads` workers each, freed scratch memory stays in one arena per
thread and the peak RSS nearly doubles; capping the arenas roughly halves it. Each run is a fresh process
that loads PAIRS pairs through ArgosEngine (the service's own code path) and translates SENTENCES sentences
with each; "uncapped" sets MALLOC_ARENA_MAX to glibc's own default (8 per core), which the engine then leaves
alone. The two modes take turns, --rounds runs each. Prints min / median / max of the peak RSS per mode.

    .venv/bin/python bench/malloc_arenas.py                  # base-sized models, 5 pairs, 64 sentences each
    .venv/bin/python bench/malloc_arenas.py --quick          # tiny models: proves the script works
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "bench")]

import newsgen  # noqa: E402
from translate_throughput import BASE, TARGETS, TINY, build_models  # noqa: E402


def worker(packages: Path, targets: list[str], sentences: int, threads: int, data: Path) -> None:
    """One measured process: every pair loaded and used, then print the peak RSS in MB."""
    from syndicator.config import TranslationConfig
    from syndicator.translate import EngineOptions
    from syndicator.translate.argos import ArgosEngine

    engine = ArgosEngine(EngineOptions(TranslationConfig(packages_dir=packages, threads=threads), data))
    text = newsgen.sentences(sentences)
    for target in targets:
        pair = engine.pair("en", target)
        assert pair is not None, f"no en→{target} package in {packages}"
        pair.translate_batch(text)
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def main() -> None:
    """Run the modes in turns and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=5)
    parser.add_argument("--sentences", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="tiny models, 2 pairs, 8 sentences, 1 round")
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "syndicator-bench")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--worker", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        packages, targets, sentences, data = args.worker
        worker(Path(packages), targets.split(","), int(sentences), args.threads, Path(data))
        return
    if args.quick:
        args.pairs, args.sentences, args.rounds = 2, 8, 1
    targets = TARGETS[: args.pairs]
    models = build_models(args.cache, TINY if args.quick else BASE, targets)
    with tempfile.TemporaryDirectory(prefix="arenas-") as tmp:
        packages = Path(tmp) / "models"
        packages.mkdir()
        for model in models.values():  # one folder holding every pair, as translation.packages_dir does
            (packages / model.name).symlink_to(model)
        modes = {
            "capped (the engine's default)": {},
            "uncapped (glibc's default)": {"MALLOC_ARENA_MAX": str(8 * (os.cpu_count() or 1))},
        }
        peaks: dict[str, list[float]] = {mode: [] for mode in modes}
        names = list(modes)
        for r in range(args.rounds):
            for mode in names if r % 2 == 0 else names[::-1]:
                env = {k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"} | modes[mode]
                cmd = [sys.executable, __file__, "--threads", str(args.threads), "--worker", str(packages),
                       ",".join(targets), str(args.sentences), str(Path(tmp) / "data")]  # fmt: skip
                out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True, timeout=1800)
                peaks[mode].append(float(out.stdout.split()[-1]))
    print(f"{args.pairs} pairs ({'tiny' if args.quick else 'base'} models), {args.sentences} sentences each, "
          f"translation.threads {args.threads}; {args.rounds} runs per mode, taking turns")  # fmt: skip
    print("| malloc arenas | peak RSS MB (min / median / max) |\n|---|---|")
    for mode in names:
        values = peaks[mode]
        print(f"| {mode} | {min(values):.0f} / {statistics.median(values):.0f} / {max(values):.0f} |")
    if args.json:
        args.json.write_text(json.dumps(peaks, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
