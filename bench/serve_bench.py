"""Load test: the built-in server side by side with nginx (`syndicator nginx-config`) on the same files.

Builds a temp instance whose English Atom feed is about 63 KB (pseudo engine, generated articles), starts
`syndicator serve` as its own process and nginx as a non-daemon process, both on 127.0.0.1, and runs wrk
against each for full responses, 304 responses (If-None-Match) and gzip, bounded in time. Prints req/s,
p99 latency and the built-in/nginx ratio. See bench/README-serve.md.

    .venv/bin/python bench/serve_bench.py [--seconds 5] [--connections 32] [--threads 2] [--nginx-workers 1]
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

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


def main() -> None:
    """Run the comparison and print a table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--nginx-workers", type=int, default=1, help="1 = one core each, like the built-in")
    parser.add_argument("--articles", type=int, default=32, help="articles in the feed (32 ≈ 63 KB Atom)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if shutil.which("wrk") is None or nginx_binary() is None:
        sys.exit("needs the Debian packages wrk and nginx (scripts/apt-packages.txt)")

    with tempfile.TemporaryDirectory(prefix="serve-bench-") as tmp:
        root = make_instance(Path(tmp) / "instance", args.articles)
        path = "/feeds/en/atom.xml"
        size = (root / "feeds" / "en" / "atom.xml").stat().st_size
        port = free_port()
        config = load_config(root / "config" / "syndicator.toml", overrides={"serve.port": str(port)})
        builtin = subprocess.Popen(
            [sys.executable, "-m", "syndicator", "-q", "--config", str(config.file), "--set", f"serve.port={port}",
             "serve"],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        builtin_url = f"http://127.0.0.1:{port}"
        try:
            for _ in range(500):  # start-up wait
                try:
                    if fetch(builtin_url, path).status == 200:
                        break
                except OSError:
                    time.sleep(0.02)
            nginx_prefix = Path(tmp) / "nginx"
            nginx_prefix.mkdir()
            with nginx_server(config, nginx_prefix, builtin_url, workers=args.nginx_workers) as nginx_url:
                results = []
                for case, extra in (("full", []), ("304", ["etag"]), ("gzip", ["Accept-Encoding: gzip"])):
                    row: dict[str, object] = {"case": case}
                    for name, base in (("builtin", builtin_url), ("nginx", nginx_url)):
                        headers = [h for h in extra if h != "etag"]
                        if "etag" in extra:
                            headers.append(f"If-None-Match: {fetch(base, path).headers['etag']}")
                        probe = fetch(base, path, headers=dict(h.split(": ", 1) for h in headers))
                        expected = 304 if case == "304" else 200
                        assert probe.status == expected, (name, case, probe.status)
                        if case == "gzip":
                            assert probe.headers.get("content-encoding") == "gzip", (name, probe.headers)
                        row[name] = wrk(base + path, args.seconds, args.connections, args.threads, headers)
                    results.append(row)
        finally:
            builtin.terminate()
            builtin.wait(timeout=30)

    if args.json:
        print(json.dumps({"feed_bytes": size, "results": results}, indent=2))
        return
    print(
        f"feed {path}: {size / 1000:.1f} KB; wrk -t{args.threads} -c{args.connections} -d{args.seconds}s; "
        f"nginx worker_processes {args.nginx_workers}; built-in: one uvicorn process"
    )
    print(
        f"{'case':<6} {'built-in req/s':>15} {'p99 ms':>8} {'nginx req/s':>12} {'p99 ms':>8} {'built-in/nginx':>15}"
    )
    for row in results:
        b, n = row["builtin"], row["nginx"]
        assert isinstance(b, dict) and isinstance(n, dict)
        print(
            f"{row['case']:<6} {b['rps']:>15.0f} {b['p99_ms']:>8.2f} {n['rps']:>12.0f} {n['p99_ms']:>8.2f} "
            f"{b['rps'] / n['rps']:>15.2f}"
        )
        for name, r in (("built-in", b), ("nginx", n)):
            if r["bad"] or r["socket_errors"]:
                print(
                    f"       {name}: {r['bad']:.0f} non-2xx/3xx, socket errors: {r['socket_errors'] or 'none'}"
                )


if __name__ == "__main__":
    main()
