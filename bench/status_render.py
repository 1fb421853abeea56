"""What `syndicator status` and each /status render spend finding out which engine covers which language.

Status used to make new engines on every render, so the Apertium engine ran `apertium -l` and dpkg-query
each time; now it asks the process's shared engine (translate.shared_engine), which remembers its modes until
they change. Both ways take turns here on the same config (targets es and ca through Apertium): --renders
each, printing min / median / max ms per render and the processes spawned per render.

    .venv/bin/python bench/status_render.py            # 20 renders each way
    .venv/bin/python bench/status_render.py --quick    # 3 each: proves the script works

Needs the apertium command (Debian package apertium); without it, exits with status 77 (skipped).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from syndicator.config import load_config  # noqa: E402
from syndicator.status import coverage  # noqa: E402
from syndicator.translate import EngineOptions, make_engine  # noqa: E402
from tests.conftest import write_config  # noqa: E402

SPAWNED = [0]
_run = subprocess.run


def counting_run(*args: Any, **kwargs: Any) -> Any:
    """subprocess.run, counted."""
    SPAWNED[0] += 1
    return _run(*args, **kwargs)


def fresh_engines(config: Any) -> None:
    """What status did: new engines for every render."""
    options = EngineOptions.of(config)
    engines: dict[str, Any] = {}
    for target in config.languages.targets:
        name = config.translation.engine_for(target)
        engines.setdefault(name, make_engine(name, options)).pair(config.languages.source, target)


def main() -> None:
    """Time both ways in turns and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--renders", type=int, default=20)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.renders = 3
    if shutil.which("apertium") is None:
        print("skipped: needs the apertium command (Debian package apertium)")
        sys.exit(77)
    subprocess.run = counting_run  # type: ignore[assignment]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "articles").mkdir()
        write_config(root, targets=("es", "ca"), engine="apertium")
        config = load_config(root / "config" / "syndicator.toml")
        ways = {"new engines per render (before)": fresh_engines, "shared engine (now)": coverage}
        times: dict[str, list[float]] = {name: [] for name in ways}
        spawned: dict[str, list[int]] = {name: [] for name in ways}
        names = list(ways)
        for r in range(args.renders):
            for name in names if r % 2 == 0 else names[::-1]:
                SPAWNED[0] = 0
                start = time.perf_counter()
                ways[name](config)
                times[name].append((time.perf_counter() - start) * 1000)
                spawned[name].append(SPAWNED[0])
    print(f"targets es, ca through Apertium; {args.renders} renders each way, taking turns")
    print("| engines | ms per render (min / median / max) | processes spawned per render (median) |")
    print("|---|---|---|")
    for name in names:
        t = times[name]
        print(f"| {name} | {min(t):.1f} / {statistics.median(t):.1f} / {max(t):.1f} | "
              f"{statistics.median(spawned[name]):.0f} |")  # fmt: skip


if __name__ == "__main__":
    main()
