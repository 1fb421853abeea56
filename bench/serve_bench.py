"""Load test: the built-in server side by side with nginx (`syndicator nginx-config`) on the same files.

Builds a temp instance whose English Atom feed is about 63 KB (pseudo engine, generated articles), starts
`syndicator serve` as its own process and nginx as a non-daemon process (once per worker count asked for),
both on 127.0.0.1, and runs wrk against each for full responses, 304 responses (If-None-Match) and gzip,
bounded in time. Every cell is run --repeats times; in each repeat the two servers take turns, the one that
went first going second next time, so slow drifts in machine load hit both alike. Prints min / median / max
of req/s and p99 latency per cell, and of the built-in/nginx ratio of the runs made back to back.
See bench/README-serve.md.

    .venv/bin/python bench/serve_bench.py [--seconds 5] [--repeats 5] [--nginx-workers 1,2] [--json]
    .venv/bin/python bench/serve_bench.py --quick     # 1-second runs, tiny feed: proves the script works

Needs wrk and nginx (Debian packages, in scripts/apt-packages.txt); without them it says so and exits with
status 77 (skipped).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from syndicator.cli import main as cli  # noqa: E402
from syndicator.config import load_config  # noqa: E402
from tests.conftest import write_config  # noqa: E402
from tests.support.servers import fetch, free_port, nginx_binary, nginx_server  # noqa: E402

PARAGRAPH = (
    "The harbour authority said the works would continue through the spring, with night shifts on the "
    "eastern pier and a temporary ferry stop beside the market. Residents can follow the schedule online. "
)


def make_instance(root: Path, articles: int) -> Path:
    """A published instance: `articles` generated articles, pseudo translations into fr."""
    (root / "articles").mkdir(parents=True)
    for i in range(articles):
        body = "\n\n".join(PARAGRAPH * 2 for _ in range(3))
        (root / "articles" / f"a{i:03d}.md").write_text(
            textwrap.dedent(
                f"""\
                ---
                title: Harbour works, part {i}
                date: 2026-03-{1 + i % 28:02d}T09:{i % 60:02d}:00+08:00
                tags: [transport]
                ---
                """
            )
            + body
            + "\n",
            encoding="utf-8",
        )
    shutil.copytree(REPO / "locales", root / "locales")
    (root / "models").mkdir()
    write_config(root, targets=("fr",), engine="pseudo", extra="\n[serve]\ngzip_files = true\n")
    with contextlib.redirect_stdout(io.StringIO()):  # the cycle's summary is not the benchmark's output
        assert cli(["-q", "--config", str(root / "config" / "syndicator.toml"), "run", "--once"]) == 0
    return root


def wrk(url: str, seconds: int, connections: int, threads: int, headers: list[str]) -> dict[str, float]:
    """One bounded wrk run: requests/s and p99 latency in ms."""
    cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency"]
    for header in headers:
        cmd += ["-H", header]
    out = subprocess.run([*cmd, url], capture_output=True, text=True, timeout=seconds + 60, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    value, unit = re.search(r"99%\s+([\d.]+)(us|ms|s)", out).groups()  # type: ignore[union-attr]
    p99 = float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    return {
        "rps": rps,
        "p99_ms": p99,
        "bad": float(non2xx.group(1)) if non2xx else 0.0,
        "socket_errors": errors.group(1) if errors else "",  # type: ignore[dict-item]
    }


SKIPPED = 77  # exit status of a benchmark whose tools are not installed (the automake convention)
CASES: tuple[tuple[str, list[str]], ...] = (
    ("full", []),
    ("304", ["etag"]),
    ("gzip", ["Accept-Encoding: gzip"]),
)
PATH = "/feeds/en/atom.xml"


def skip_unless(*tools: str) -> None:
    """Exit with SKIPPED, saying why, when a tool is missing."""
    missing = [t for t in tools if (nginx_binary() if t == "nginx" else shutil.which(t)) is None]
    if missing:
        print(f"skipped: needs {' and '.join(missing)} (Debian packages; scripts/apt-packages.txt)")
        sys.exit(SKIPPED)


def spread(values: Sequence[float]) -> dict[str, float]:
    """min, median and max of some runs."""
    return {"min": min(values), "median": statistics.median(values), "max": max(values)}


def alternating(
    servers: Sequence[str], repeats: int, run: Callable[[str, str, list[str]], dict[str, Any]]
) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """run(server, case, extra) for every case, server and repeat; in repeat r the servers go in an order
    rotated by r, so each goes first as often as the others. Returns runs by case, then by server."""
    runs: dict[str, dict[str, list[dict[str, Any]]]] = {case: {s: [] for s in servers} for case, _ in CASES}
    for r in range(repeats):
        order = [servers[(i + r) % len(servers)] for i in range(len(servers))]
        for case, extra in CASES:
            for server in order:
                runs[case][server].append(run(server, case, extra))
    return runs


def wait_until_up(base: str, path: str) -> None:
    """Poll until the server answers 200 (at most 30 s)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if fetch(base, path).status == 200:
                return
        except OSError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"{base}{path} did not come up within 30 s")


def case_headers(base: str, case: str, extra: list[str]) -> list[str]:
    """The request headers of a case, checked against the server: 304 and gzip must really happen."""
    headers = [h for h in extra if h != "etag"]
    if "etag" in extra:
        headers.append(f"If-None-Match: {fetch(base, PATH).headers['etag']}")
    probe = fetch(base, PATH, headers=dict(h.split(": ", 1) for h in headers))
    assert probe.status == (304 if case == "304" else 200), (base, case, probe.status)
    if case == "gzip":
        assert probe.headers.get("content-encoding") == "gzip", (base, probe.headers)
    return headers


def summary(
    runs: dict[str, dict[str, list[dict[str, Any]]]], ratio_of: tuple[str, str] | None
) -> list[dict[str, Any]]:
    """Per case: the spread of req/s and p99 per server, and of the back-to-back ratio."""
    rows = []
    for case, by_server in runs.items():
        row: dict[str, Any] = {"case": case}
        for server, results in by_server.items():
            row[server] = {
                "rps": spread([r["rps"] for r in results]),
                "p99_ms": spread([r["p99_ms"] for r in results]),
                "bad": sum(r["bad"] for r in results),
                "socket_errors": sorted({r["socket_errors"] for r in results if r["socket_errors"]}),
            }
        if ratio_of:
            a, b = ratio_of
            ratios = [x["rps"] / y["rps"] for x, y in zip(by_server[a], by_server[b], strict=True)]
            row["ratio"] = spread(ratios)
        rows.append(row)
    return rows


def cell(s: dict[str, float], fmt: str) -> str:
    """'min / median / max' of one cell."""
    return " / ".join(format(s[k], fmt) for k in ("min", "median", "max"))


def print_table(rows: list[dict[str, Any]], servers: Sequence[str], ratio_label: str) -> None:
    """A Markdown table, every cell as min / median / max (bench/README-serve.md quotes it as printed)."""
    header = ["case"]
    for server in servers:
        header += [f"{server} req/s", f"{server} p99 ms"]
    if ratio_label:
        header.append(ratio_label)
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for row in rows:
        cells = [row["case"]]
        for server in servers:
            cells += [cell(row[server]["rps"], ".0f"), cell(row[server]["p99_ms"], ".1f")]
        if ratio_label:
            cells.append(cell(row["ratio"], ".2f"))
        print("| " + " | ".join(cells) + " |")
    for row in rows:
        for server in servers:
            r = row[server]
            if r["bad"] or r["socket_errors"]:
                print(f"  {row['case']} {server}: {r['bad']:.0f} non-2xx/3xx; socket errors: "
                      f"{'; '.join(r['socket_errors']) or 'none'}")  # fmt: skip


def main() -> None:
    """Run the comparison for each nginx worker count and print one table each."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=5, help="length of each wrk run")
    parser.add_argument("--repeats", type=int, default=5, help="runs per cell, servers alternating")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--nginx-workers", default="1,2", help="comma list; 1 = one core each, like the built-in"
    )
    parser.add_argument("--articles", type=int, default=32, help="articles in the feed (32 ≈ 63 KB Atom)")
    parser.add_argument(
        "--quick", action="store_true", help="1-second runs, 2 repeats, 4 articles, nginx 1 worker"
    )
    parser.add_argument("--json", type=Path, help="also write every run here")
    args = parser.parse_args()
    if args.quick:
        args.seconds, args.repeats, args.articles, args.nginx_workers, args.connections = 1, 2, 4, "1", 4
    skip_unless("wrk", "nginx")
    worker_counts = [int(w) for w in args.nginx_workers.split(",")]

    out: dict[str, Any] = {"settings": vars(args) | {"json": str(args.json)}, "tables": {}}
    with tempfile.TemporaryDirectory(prefix="serve-bench-") as tmp:
        root = make_instance(Path(tmp) / "instance", args.articles)
        size = (root / "feeds" / "en" / "atom.xml").stat().st_size
        port = free_port()
        config = load_config(root / "config" / "syndicator.toml", overrides={"serve.port": str(port)})
        builtin = subprocess.Popen(
            [sys.executable, "-m", "syndicator", "-q", "--config", str(config.file), "--set", f"serve.port={port}",
             "serve"],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        builtin_url = f"http://127.0.0.1:{port}"
        print(
            f"feed {PATH}: {size / 1000:.1f} KB; wrk -t{args.threads} -c{args.connections} -d{args.seconds}s; "
            f"{args.repeats} runs per cell, servers alternating; built-in: one uvicorn process"
        )
        try:
            wait_until_up(builtin_url, PATH)
            for workers in worker_counts:
                prefix = Path(tmp) / f"nginx-{workers}"
                prefix.mkdir()
                with nginx_server(config, prefix, builtin_url, workers=workers) as nginx_url:
                    bases = {"built-in": builtin_url, "nginx": nginx_url}

                    def run(
                        server: str, case: str, extra: list[str], bases: dict[str, str] = bases
                    ) -> dict[str, Any]:
                        base = bases[server]
                        headers = case_headers(base, case, extra)
                        return wrk(base + PATH, args.seconds, args.connections, args.threads, headers)

                    runs = alternating(list(bases), args.repeats, run)
                rows = summary(runs, ("built-in", "nginx"))
                out["tables"][f"nginx_workers_{workers}"] = {"runs": runs, "summary": rows}
                print(f"\nnginx worker_processes {workers} (min / median / max of {args.repeats}):\n")
                print_table(rows, list(bases), "built-in/nginx")
        finally:
            builtin.terminate()
            builtin.wait(timeout=30)
    out["feed_bytes"] = size
    if args.json:
        args.json.write_text(json.dumps(out, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
