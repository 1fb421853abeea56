"""Apertium: all sentences in one subprocess call (what the engine does) vs one call per sentence.

Run: .venv/bin/python bench/apertium_batch.py [N]   (needs the Debian packages apertium, apertium-eng-spa)
Prints both rates measured side by side in one run and their ratio. The machine is shared: absolute numbers
are noisy, the ratio less so.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from syndicator.config import TranslationConfig
from syndicator.translate import EngineOptions
from syndicator.translate.apertium import ApertiumEngine

SENTENCES = [
    "The Ocean Harbour Authority will open a new ferry line on Monday.",
    "The line will link the Old Port terminal and North Island.",
    "Each ferry can carry 300 passengers and 40 bicycles.",
    "Residents can register at any library desk or by e-mail.",
    "Strong wind and heavy rain are expected until the evening.",
]


def main() -> None:
    """Measure and print sentences/s for both ways and the ratio."""
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    sentences = [f"{s} Item {i}." for i, s in zip(range(n), SENTENCES * n, strict=False)]
    with tempfile.TemporaryDirectory() as tmp:
        pair = ApertiumEngine(EngineOptions(TranslationConfig(packages_dir=Path(tmp)), Path(tmp))).pair(
            "en", "es"
        )
    if pair is None:
        print("skipped: needs apertium with the eng-spa pair (Debian packages apertium, apertium-eng-spa)")
        sys.exit(77)  # skipped (the automake convention; tests/test_bench.py reads it)
    pair.translate_batch(sentences[:2])  # warm the page cache
    start = time.perf_counter()
    batched = pair.translate_batch(sentences)
    t_batch = time.perf_counter() - start
    start = time.perf_counter()
    single = [pair.translate_batch([s])[0] for s in sentences]
    t_single = time.perf_counter() - start
    assert batched == single, "batched and one-by-one output differ"
    print(f"{n} sentences, apertium {pair.model_id}")
    print(f"  one call per sentence: {n / t_single:8.1f} sentences/s")
    print(f"  one call for all:      {n / t_batch:8.1f} sentences/s")
    print(f"  ratio: {t_single / t_batch:.1f}x (same output)")


if __name__ == "__main__":
    main()
