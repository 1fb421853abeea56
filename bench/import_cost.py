"""What a dependency costs: disk space of its installed distribution(s) and the time to import it cold.

Backs the dependency notes in README.md and docs/sources.md (argos-translate-lt's import time, trafilatura's
and py3langid's size and first import). Each import is timed in a fresh interpreter, --repeats times, and the
min / median / max printed; sizes are summed from each distribution's installed files (its RECORD).

    .venv/bin/python bench/import_cost.py             # the modules below, 5 fresh imports each
    .venv/bin/python bench/import_cost.py --quick     # one module, one import: proves the script works
"""

from __future__ import annotations

import argparse
import importlib.metadata
import statistics
import subprocess
import sys
from pathlib import Path

# module imported -> the distribution that provides it ("" for none: our own code)
MODULES = {
    "argostranslate.translate": "argos-translate-lt",
    "trafilatura": "trafilatura",
    "py3langid": "py3langid",
    "syndicator.cli": "",
}


def closure(root: str) -> set[str]:
    """A distribution and everything it requires (without extras), recursively, as installed here."""
    from packaging.requirements import Requirement

    seen: set[str] = set()
    todo = [root]
    while todo:
        name = todo.pop().lower().replace("_", "-")
        if name in seen:
            continue
        try:
            requires = importlib.metadata.requires(name) or []
        except importlib.metadata.PackageNotFoundError:
            continue
        seen.add(name)
        for text in requires:
            req = Requirement(text)
            if req.marker is None or req.marker.evaluate({"extra": ""}):
                todo.append(req.name)
    return seen


def others(dist: str) -> set[str]:
    """What syndicator's other requirements bring: a dependency's share of the venv is what is not in here."""
    from packaging.requirements import Requirement

    names = {Requirement(r).name for r in importlib.metadata.requires("syndicator") or [] if "extra" not in r}
    return set().union(*(closure(n) for n in names if n.lower().replace("_", "-") != dist))


def size_mb(distributions: set[str]) -> float:
    """Installed size of some distributions, from their RECORD files."""
    total = 0
    for name in distributions:
        try:
            files = importlib.metadata.files(name) or []
        except importlib.metadata.PackageNotFoundError:
            continue
        for f in files:
            path = Path(f.locate())
            total += path.stat().st_size if path.is_file() else 0
    return total / 1e6


def import_seconds(module: str) -> float:
    """One cold import in a fresh interpreter."""
    code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=300
    )
    return float(out.stdout.split()[-1])


def main() -> None:
    """Print the size and import time of each module."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    modules = dict(list(MODULES.items())[-1:]) if args.quick else MODULES
    repeats = 1 if args.quick else args.repeats
    print(
        f"| module | installed MB: own / with what it requires / what only it brings | cold import s (min / median / max of {repeats}) |"
    )
    print("|---|---|---|")
    times: dict[str, list[float]] = {m: [] for m in modules}
    for _ in range(repeats):  # modules in turns, so load drifts hit all alike
        for module in modules:
            times[module].append(import_seconds(module))
    for module, dist in modules.items():
        t = times[module]
        size = "-"
        if dist:
            alone = closure(dist) - others(dist)
            size = f"{size_mb({dist}):.1f} / {size_mb(closure(dist)):.1f} / {size_mb(alone):.1f}"
        print(f"| {module} | {size} | {min(t):.2f} / {statistics.median(t):.2f} / {max(t):.2f} |")


if __name__ == "__main__":
    main()
