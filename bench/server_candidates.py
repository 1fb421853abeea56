"""Which server runs the built-in app fastest, and what serving the same files costs elsewhere.

The same FeedApp (bench/candidate_app.py) on each ASGI server, one process each, and for comparison the same
feeds folder behind Starlette's StaticFiles and WhiteNoise when those are installed; the same wrk load on each
for full, 304 and gzip responses. Every cell is run --repeats times with the servers taking turns (the order
rotates each repeat); prints min / median / max of req/s and p99 per cell, and of each server's req/s over the
chosen server's in the same repeat.

    .venv/bin/pip install granian starlette whitenoise gunicorn   # optional contenders; not dependencies
    .venv/bin/python bench/server_candidates.py [--seconds 5] [--repeats 5]
    .venv/bin/python bench/server_candidates.py --quick            # proves the script works

Needs wrk (Debian package); without it, says so and exits with status 77 (skipped).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.serve_bench import (  # noqa: E402
    PATH,
    alternating,
    case_headers,
    make_instance,
    print_table,
    skip_unless,
    spread,
    summary,
    wait_until_up,
    wrk,
)
from tests.support.servers import free_port  # noqa: E402

BIN = Path(sys.executable).parent
CHOSEN = "uvicorn+httptools+uvloop"
# name -> (command, modules it needs); {bin} is the venv's bin folder, {port} a free port.
CANDIDATES: dict[str, tuple[list[str], tuple[str, ...]]] = {
    CHOSEN: (["{bin}/uvicorn", "--factory", "bench.candidate_app:app", "--http", "httptools", "--loop", "uvloop",
              "--no-access-log", "--log-level", "warning", "--lifespan", "off", "--port", "{port}"], ()),
    "uvicorn+h11+asyncio": (["{bin}/uvicorn", "--factory", "bench.candidate_app:app", "--http", "h11", "--loop",
                             "asyncio", "--no-access-log", "--log-level", "warning", "--lifespan", "off",
                             "--port", "{port}"], ()),
    "granian (asginl, 1 worker)": (["{bin}/granian", "--interface", "asginl", "--factory", "--workers", "1",
                                    "--port", "{port}", "--log-level", "warning", "--no-ws",
                                    "bench.candidate_app:app"], ("granian",)),
    "starlette StaticFiles (uvicorn)": (["{bin}/uvicorn", "--factory", "bench.candidate_app:starlette_app",
                                         "--http", "httptools", "--loop", "uvloop", "--no-access-log",
                                         "--log-level", "warning", "--lifespan", "off", "--port", "{port}"],
                                        ("starlette",)),
    "gunicorn + WhiteNoise": (["{bin}/gunicorn", "--workers", "1", "--bind", "127.0.0.1:{port}", "--log-level",
                               "warning", "bench.candidate_app:whitenoise_app()"], ("whitenoise", "gunicorn")),
}  # fmt: skip


def installed(command: list[str], modules: tuple[str, ...]) -> bool:
    """Whether a candidate can run here."""
    exe = command[0].format(bin=BIN)
    has_exe = Path(exe).exists() or shutil.which(Path(exe).name) is not None
    return has_exe and all(importlib.util.find_spec(m) is not None for m in modules)


def main() -> None:
    """Start every installed candidate, load them in turns, print one table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--articles", type=int, default=32)
    parser.add_argument(
        "--quick", action="store_true", help="the chosen server only, 1-second runs, tiny feed"
    )
    parser.add_argument("--json", type=Path, help="also write every run here")
    args = parser.parse_args()
    if args.quick:
        args.seconds, args.repeats, args.articles, args.connections = 1, 1, 4, 4
    skip_unless("wrk")
    available = {name: cmd for name, (cmd, modules) in CANDIDATES.items() if installed(cmd, modules)}
    if args.quick:  # the chosen server only: the code path is the same for every candidate
        available = {CHOSEN: available[CHOSEN]}
    for name in CANDIDATES.keys() - available.keys() if not args.quick else ():
        print(f"{name}: not installed (pip install {' '.join(CANDIDATES[name][1])})")

    with tempfile.TemporaryDirectory(prefix="serve-cand-") as tmp:
        root = make_instance(Path(tmp) / "instance", args.articles)
        env = {
            **os.environ,
            "SYNDICATOR_CONFIG": str(root / "config" / "syndicator.toml"),
            "PYTHONPATH": str(REPO),
        }
        procs, bases = [], {}
        try:
            for name, template in available.items():
                port = free_port()
                cmd = [part.format(bin=BIN, port=port) for part in template]
                procs.append(
                    subprocess.Popen(
                        cmd, env=env, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
                    )
                )
                bases[name] = f"http://127.0.0.1:{port}"
            for base in bases.values():
                wait_until_up(base, PATH)

            def run(server: str, case: str, extra: list[str]) -> dict[str, Any]:
                headers = case_headers(bases[server], case, extra)
                return wrk(bases[server] + PATH, args.seconds, args.connections, args.threads, headers)

            runs = alternating(list(bases), args.repeats, run)
        finally:
            for proc in procs:
                proc.terminate()
                proc.wait(timeout=30)

    rows = summary(runs, None)
    for row in rows:  # each server's req/s over the chosen one's, run in the same repeat
        for name in bases:
            pairs = zip(runs[row["case"]][name], runs[row["case"]][CHOSEN], strict=True)
            row[name]["vs_chosen"] = spread([a["rps"] / b["rps"] for a, b in pairs])
    print(
        f"wrk -t{args.threads} -c{args.connections} -d{args.seconds}s; {args.repeats} runs per cell, servers "
        f"taking turns; min / median / max\n"
    )
    print_table(rows, list(bases), "")
    print(f"\nreq/s over {CHOSEN} in the same repeat (min / median / max):\n")
    print("| server | full | 304 | gzip |\n|---|---|---|---|")
    for name in bases:
        cells = [
            " / ".join(f"{row[name]['vs_chosen'][k]:.2f}" for k in ("min", "median", "max")) for row in rows
        ]
        print(f"| {name} | " + " | ".join(cells) + " |")
    if args.json:
        args.json.write_text(json.dumps({"runs": runs, "summary": rows}, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
