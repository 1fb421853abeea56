"""CTranslate2 thread layouts for the same work: one worker using every core, or one single-threaded worker per core.

The claim it backs (docs/translation-performance.md, `ct2_threads()` in syndicator/translate/argos.py):
with `translation.threads` cores, `inter_threads=threads, intra_threads=1` translates news sentences faster
than `inter_threads=1, intra_threads=threads`, for the same CPU time per sentence. Both layouts load the same
model in this process and translate the same pre-tokenized sentences with `translate_batch`, cut into
sub-batches the way ArgosPair cuts them (`max_batch_size = ceil(n / workers)`); they take turns, the one
that went first going second in the next round. Prints min / median / max sentences/s and CPU ms per
sentence for each layout, and of the per-round ratio.

    .venv/bin/python bench/thread_layouts.py                 # base-sized model, 200 sentences, 4 rounds
    .venv/bin/python bench/thread_layouts.py --quick         # tiny model: proves the script works
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "bench")]

import newsgen  # noqa: E402
from translate_throughput import BASE, TINY, build_models  # noqa: E402


def spread(values: list[float]) -> str:
    """'min / median / max'."""
    return f"{min(values):.2f} / {statistics.median(values):.2f} / {max(values):.2f}"


def main() -> None:
    """Load the model once per layout, time them in turns, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sentences", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument(
        "--threads", type=int, default=2, help="cores given to translation (translation.threads)"
    )
    parser.add_argument("--beam", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="tiny model, 12 sentences, 2 rounds")
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "syndicator-bench")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    if args.quick:
        args.sentences, args.rounds = 12, 2
    import ctranslate2
    import sentencepiece

    size = TINY if args.quick else BASE
    package = build_models(args.cache, size, ("fr",))["fr"]
    sp = sentencepiece.SentencePieceProcessor(model_file=str(package / "sentencepiece.model"))
    tokens = [sp.encode(s, out_type=str) for s in newsgen.sentences(args.sentences)]
    layouts = {
        f"{args.threads} workers x 1 thread": (1, args.threads),  # (intra, inter): what ct2_threads() picks
        f"1 worker x {args.threads} threads": (args.threads, 1),
    }
    translators = {
        name: ctranslate2.Translator(
            str(package / "model"), device="cpu", intra_threads=intra, inter_threads=inter
        )
        for name, (intra, inter) in layouts.items()
    }
    for translator in translators.values():
        translator.translate_batch(tokens[:2], beam_size=args.beam)  # warm up

    rates: dict[str, list[float]] = {name: [] for name in layouts}
    cpu: dict[str, list[float]] = {name: [] for name in layouts}
    names = list(layouts)
    for r in range(args.rounds):
        for name in names if r % 2 == 0 else names[::-1]:
            inter = layouts[name][1]
            wall, cpu0 = time.perf_counter(), time.process_time()
            translators[name].translate_batch(
                tokens,
                beam_size=args.beam,
                max_batch_size=-(-len(tokens) // inter),
                batch_type="examples",
                length_penalty=0.2,
                replace_unknowns=True,
            )
            wall, used = time.perf_counter() - wall, time.process_time() - cpu0
            rates[name].append(len(tokens) / wall)
            cpu[name].append(used * 1000 / len(tokens))
    ratios = [a / b for a, b in zip(rates[names[0]], rates[names[1]], strict=True)]
    print(f"model {'tiny' if args.quick else 'base'} {size}; {len(tokens)} sentences; beam {args.beam}; "
          f"{args.rounds} rounds, layouts taking turns; min / median / max")  # fmt: skip
    print("| layout | sentences/s | CPU ms per sentence |\n|---|---|---|")
    for name in names:
        print(f"| {name} | {spread(rates[name])} | {spread(cpu[name])} |")
    print(f"\n{names[0]} over {names[1]}, same round: {spread(ratios)}")
    if args.json:
        result: dict[str, Any] = {"rates": rates, "cpu_ms": cpu, "ratios": ratios, "sentences": len(tokens)}
        args.json.write_text(json.dumps(result, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
