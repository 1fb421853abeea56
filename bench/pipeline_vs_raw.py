"""The pipeline against raw CTranslate2 on the very model it loaded, over several fresh processes.

On a small VM a process keeps its own speed for its whole life: the same raw setting ran at 92 and 78
sentences/s in two processes (bench/README.md), and the pipeline's ratio to raw in its own process moved from
0.86 to 0.99 between processes. One process's ratio says little; this script starts `--processes` fresh ones
per checkout and model. Each loads the pipeline as translate_throughput.py's PipelineWorker does (untimed warm
pass included), then runs `--rounds` rounds of one pipeline pass (translate_articles) and one raw pass at
`--raw` on the same loaded model, the order swapped every other round: the same sentences, passes and model
for both. Printed per process: sentences/s and CPU ms per sentence of each, and the pipeline's ratios (wall,
CPU); then per checkout and model the median, lowest and highest ratio over the processes.

`--compare PATH` runs a second checkout (its syndicator and bench/translate_throughput.py) in processes taking
turns with this one's: an A/B of a change under the same conditions.

    .venv/bin/python bench/pipeline_vs_raw.py                      # short and long model, plain set
    .venv/bin/python bench/pipeline_vs_raw.py --models short --processes 5 --compare /tmp/before
    .venv/bin/python bench/pipeline_vs_raw.py --quick                # a tiny model (used by a test)
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


def worker(spec: dict[str, Any]) -> None:
    """One process: the pipeline and raw passes in turn; prints one JSON line."""
    root = Path(spec["root"])
    sys.path[:0] = [str(root), str(root / "bench")]
    import translate_throughput as tt

    pipeline = tt.PipelineWorker(spec)
    n = len(pipeline.texts)
    out: dict[str, list[tuple[float, float]]] = {"pipeline": [], "raw": []}
    for r in range(spec["rounds"]):
        for who in ("pipeline", "raw") if r % 2 == 0 else ("raw", "pipeline"):
            variant = "default" if who == "pipeline" else f"raw-{spec['raw']}"
            pipeline.prepare(variant)
            cpu, wall = time.process_time(), time.perf_counter()
            pipeline.run(variant)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            out[who].append((n / wall, 1000 * cpu / n))
    print(json.dumps(out))


def one_process(root: Path, spec: dict[str, Any]) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, __file__, "--worker", json.dumps({**spec, "root": str(root)})],
        capture_output=True,
        text=True,
        check=True,
    )
    passes = json.loads(proc.stdout.strip().splitlines()[-1])
    median = {who: (statistics.median(p[0] for p in ps), statistics.median(p[1] for p in ps))
              for who, ps in passes.items()}  # fmt: skip
    pairs = list(zip(passes["pipeline"], passes["raw"], strict=True))
    return {
        "pipeline": median["pipeline"],
        "raw": median["raw"],
        # Paired by round: the two passes of a round ran next to each other.
        "wall": statistics.median(p[0] / r[0] for p, r in pairs),
        "cpu": statistics.median(r[1] / p[1] for p, r in pairs),
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--models", default="short,long", help="of: short, long (default both)")
    parser.add_argument("--set", default="plain", help="plain or news (default plain)")
    parser.add_argument("--processes", type=int, default=5, help="fresh processes per checkout and model")
    parser.add_argument("--rounds", type=int, default=4, help="pipeline and raw passes per process")
    parser.add_argument(
        "--raw", default="tokens-1024", help="the raw setting (translate_throughput.RAW_SETTINGS)"
    )
    parser.add_argument("--sentences", type=int, default=200)
    parser.add_argument("--compare", type=Path, help="another checkout, run in turns with this one")
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "syndicator-bench")
    parser.add_argument(
        "--quick", action="store_true", help="tiny model, 12 sentences, 1 process (for tests)"
    )
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(json.loads(args.worker))
        return 0
    if args.quick:
        args.models, args.sentences, args.processes, args.rounds = "short", min(args.sentences, 12), 1, 1
    sys.path[:0] = [str(REPO), str(REPO / "bench")]
    import translate_throughput as tt

    from syndicator.settings_table import SETTINGS
    from syndicator.translate.argos import ct2_threads

    defaults = {s.key: s.default for s in SETTINGS}
    threads = int(defaults["translation.threads"])  # type: ignore[call-overload]
    intra, inter = ct2_threads(threads)
    roots = {"this checkout": REPO, **({f"{args.compare}": args.compare} if args.compare else {})}
    started = time.perf_counter()
    for model in args.models.split(","):
        size = tt.TINY if args.quick else {**tt.BASE, **tt.MODELS[model]}
        package = tt.build_models(args.cache, size, ("fr",))["fr"]
        spec = {
            "sentences": args.sentences, "set": args.set, "target": "fr", "package": str(package),
            "beam": int(defaults["translation.beam_size"]),  # type: ignore[call-overload]
            "batch_size": int(defaults["translation.batch_size"]),  # type: ignore[call-overload]
            "threads": threads, "intra_threads": intra, "inter_threads": inter,
            "rounds": args.rounds, "raw": args.raw,
        }  # fmt: skip
        found: dict[str, list[dict[str, Any]]] = {name: [] for name in roots}
        print(f"{model} model, {args.set} set, raw {args.raw}: sentences/s / CPU ms per sentence", flush=True)
        for i in range(args.processes):
            for name, root in roots.items() if i % 2 == 0 else reversed(roots.items()):
                got = one_process(root, spec)
                found[name].append(got)
                print(
                    f"  {name}, process {i + 1}: pipeline {got['pipeline'][0]:.1f} / {got['pipeline'][1]:.2f}, "
                    f"raw {got['raw'][0]:.1f} / {got['raw'][1]:.2f}; pipeline ÷ raw: wall {got['wall']:.3f}, "
                    f"CPU {got['cpu']:.3f}",
                    flush=True,
                )
        for name, runs in found.items():
            for what in ("wall", "cpu"):
                ratios = sorted(r[what] for r in runs)
                print(
                    f"  {name}: pipeline ÷ raw per {what}: median {statistics.median(ratios):.3f} over "
                    f"{len(ratios)} processes (lowest {ratios[0]:.3f}, highest {ratios[-1]:.3f})"
                )
    print(f"total {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
