"""Built-in server: resident memory and start-up time against the number of published files, this tree vs a
baseline (by default `main`'s code, the server that held every file in memory and re-walked the tree every 2 s).

For each size N, a feeds folder of N files shaped like a real archive (per language: current feeds of ~60 KB,
RFC 5005 archive documents of ~20 KB, entry pages of ~4 KB) is served by `syndicator serve` as its own process,
once per contender. Measured per run, each contender on the same files:

- start-up: from spawning the process until /healthz answers, and until the first feed is served;
- resident memory (VmRSS) once ready, after readers pulled the 3 current feeds of every language ("hot"), and
  after a crawler pulled `--crawl` different files ("crawled");
- CPU time the idle process uses over `--idle` seconds (the baseline walks the whole tree every serve.refresh).

The baseline runs from `git archive <ref>` in a temp folder with this venv's packages. Numbers go to stdout and,
with --json, to a file; bench/README.md keeps the lead's full-size run. Tiny mode for tests/test_bench.py:

    .venv/bin/python bench/serve_memory.py                                  # 100, 10,000, 100,000 files
    .venv/bin/python bench/serve_memory.py --sizes 100,500 --crawl 200 --idle 1 --baseline main
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.conftest import write_config  # noqa: E402
from tests.support.servers import free_port  # noqa: E402

LANGUAGES = ("en", "fr", "ar", "ru", "zh", "es", "de", "pt", "ja", "hi")
FEEDS = ("rss.xml", "atom.xml", "feed.json")
PER_PAGE = 50  # entries per archive page (publish.max_entries)
PARAGRAPH = "The harbour authority said the works would continue through the spring, with night shifts. "


def _body(kind: str, i: int, size: int) -> bytes:
    """Text of about `size` bytes that compresses like a published document."""
    head = {
        "html": f"<!doctype html><title>Story {i}</title>\n",
        "xml": f'<?xml version="1.0"?><feed n="{i}">\n',
    }
    text = head.get(kind, "{") + "".join(f"<p>{i}.{n} {PARAGRAPH}</p>\n" for n in range(size // 110 + 1))
    return text.encode()[:size]


def make_tree(feeds: Path, count: int) -> list[str]:
    """`count` files under feeds/, shaped as a published archive; returns their relpaths."""
    paths: list[str] = []
    for n, lang in enumerate(LANGUAGES):
        quota = count // len(LANGUAGES) + (n < count % len(LANGUAGES))
        mine: list[str] = []
        for name in FEEDS[: min(quota, len(FEEDS))]:
            _put(feeds, f"{lang}/{name}", _body("xml", 0, 60_000), mine)
        entries = page = 0
        while len(mine) < quota:
            _put(feeds, f"{lang}/newsroom/{entries}.html", _body("html", entries, 4_000), mine)
            entries += 1
            if entries % PER_PAGE == 0:
                page += 1
                for name in FEEDS[: max(0, min(len(FEEDS), quota - len(mine)))]:
                    _put(feeds, f"{lang}/archive/{page}/{name}", _body("xml", page, 20_000), mine)
        paths += mine
    return paths


def _put(feeds: Path, relpath: str, data: bytes, paths: list[str]) -> None:
    target = feeds / relpath
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    paths.append(relpath)


def baseline_tree(ref: str, into: Path) -> Path:
    """The syndicator package of a git ref, extracted under `into` (for PYTHONPATH)."""
    into.mkdir(parents=True)
    archive = subprocess.run(
        ["git", "-C", str(REPO), "archive", ref, "syndicator"], capture_output=True, check=True, timeout=120
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True, timeout=120)
    return into


def rss(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1)) * 1024  # type: ignore[union-attr]


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def get(port: int, path: str, conn: http.client.HTTPConnection | None = None) -> int:
    own = conn is None
    conn = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        conn.request("GET", path, headers={"Accept-Encoding": "br, gzip"})
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        if own:
            conn.close()


def measure(
    root: Path, paths: list[str], pythonpath: str, extra: list[str], crawl: int, idle: float
) -> dict[str, float]:
    """One contender over one tree: start-up, memory at three moments, idle CPU."""
    port = free_port()
    env = {**os.environ, "PYTHONPATH": pythonpath}
    command = [sys.executable, "-m", "syndicator", "-q", "--config", str(root / "config" / "syndicator.toml"),
               "--set", f"serve.port={port}", *extra, "serve"]  # fmt: skip
    started = time.perf_counter()
    # cwd: `python -m` puts it first on sys.path, and the repository's own package must not shadow PYTHONPATH's.
    proc = subprocess.Popen(command, env=env, cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    result: dict[str, float] = {}
    try:
        while True:  # a start-up wait: what is measured, with a hang guard
            if proc.poll() is not None:
                raise RuntimeError(f"server exited: {proc.stderr.read().decode() if proc.stderr else ''}")
            try:
                if get(port, "/healthz") in (200, 503):
                    break
            except OSError:
                time.sleep(0.005)
            if time.perf_counter() - started > 3600:
                raise RuntimeError("server not ready within an hour")
        result["ready_s"] = time.perf_counter() - started
        assert get(port, "/feeds/en/atom.xml") == 200
        result["first_feed_s"] = time.perf_counter() - started
        result["rss_ready_mb"] = rss(proc.pid) / 1e6
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        for lang in LANGUAGES:
            for name in FEEDS:
                if f"{lang}/{name}" in paths:
                    get(port, f"/feeds/{lang}/{name}", conn)
        result["rss_hot_mb"] = rss(proc.pid) / 1e6
        step = max(len(paths) // max(crawl, 1), 1)
        for relpath in paths[::step][:crawl]:
            assert get(port, f"/feeds/{relpath}", conn) == 200, relpath
        conn.close()
        result["rss_crawled_mb"] = rss(proc.pid) / 1e6
        before = cpu_seconds(proc.pid)
        time.sleep(idle)
        result["idle_cpu_pct"] = 100 * (cpu_seconds(proc.pid) - before) / idle
    finally:
        proc.terminate()
        proc.wait(timeout=60)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,10000,100000", help="numbers of published files")
    parser.add_argument("--crawl", type=int, default=5000, help="different files a crawler pulls")
    parser.add_argument("--idle", type=float, default=10.0, help="seconds of idle CPU measured")
    parser.add_argument(
        "--baseline", default="main", help="git ref of the server to compare with ('' = none)"
    )
    parser.add_argument("--cache-bytes", type=int, default=64 * 1024 * 1024, help="serve.cache_bytes (ours)")
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs per contender and size (medians reported)"
    )
    parser.add_argument("--json", type=Path, help="write every number here")
    args = parser.parse_args()
    if not Path("/proc/self/status").exists():
        sys.exit("reads resident memory and CPU time from Linux /proc")
    sizes = [int(s) for s in args.sizes.split(",")]
    results: list[dict[str, object]] = []
    print(f"vm: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}", flush=True)
    with tempfile.TemporaryDirectory(prefix="serve-memory-") as tmp:
        contenders = [("this tree", str(REPO), [f"--set=serve.cache_bytes={args.cache_bytes}"])]
        if args.baseline:
            base = baseline_tree(args.baseline, Path(tmp) / "baseline")
            contenders.append((f"{args.baseline}", str(base), []))
        for size in sizes:
            root = Path(tmp) / f"instance-{size}"
            (root / "articles").mkdir(parents=True)
            shutil.copytree(REPO / "locales", root / "locales")
            write_config(root, targets=LANGUAGES[1:], engine="pseudo")
            paths = make_tree(root / "feeds", size)
            runs: dict[str, list[dict[str, float]]] = {name: [] for name, _, _ in contenders}
            for _ in range(args.repeat):  # contenders take turns, so both see the same machine load
                for n, (name, pythonpath, extra) in enumerate(contenders):
                    # A store each: the baseline's code refuses a store a newer schema revision created.
                    store = f"--set=store.url=sqlite:///{root}/data/contender-{n}.db"
                    numbers = measure(
                        root, paths, pythonpath, [*extra, store], min(args.crawl, len(paths)), args.idle
                    )
                    runs[name].append(numbers)
                    print(f"{len(paths):>7} files  {name:<10} " + "  ".join(f"{k} {v:.2f}" for k, v in numbers.items()),
                          flush=True)  # fmt: skip
            for name, numbers_list in runs.items():
                medians = {k: statistics.median(n[k] for n in numbers_list) for k in numbers_list[0]}
                results.append({"files": len(paths), "server": name, **medians})
            shutil.rmtree(root)
    print(f"\nmedians of {args.repeat} run(s); serve.cache_bytes {args.cache_bytes} for this tree")
    print(f"{'files':>8} {'server':<10} {'ready s':>8} {'1st feed s':>10} {'RSS ready MB':>13} {'hot MB':>8} "
          f"{'crawled MB':>11} {'idle CPU %':>10}")  # fmt: skip
    for r in results:
        print(f"{r['files']:>8} {r['server']:<10} {r['ready_s']:>8.2f} {r['first_feed_s']:>10.2f} "
              f"{r['rss_ready_mb']:>13.1f} {r['rss_hot_mb']:>8.1f} {r['rss_crawled_mb']:>11.1f} "
              f"{r['idle_cpu_pct']:>10.1f}")  # fmt: skip
    if args.json:
        args.json.write_text(
            json.dumps({"crawl": args.crawl, "results": results}, indent=2), encoding="utf-8"
        )


if __name__ == "__main__":
    main()
