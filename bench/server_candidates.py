"""Which ASGI server runs the built-in app fastest: the same FeedApp on each, one process, same wrk load.

.venv/bin/pip install granian   # only for this comparison; not a dependency
.venv/bin/python bench/server_candidates.py [--seconds 5]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.serve_bench import make_instance, wrk  # noqa: E402
from tests.support.servers import fetch, free_port  # noqa: E402

BIN = Path(sys.executable).parent
CANDIDATES = {
    "uvicorn+httptools+uvloop": ["{bin}/uvicorn", "--factory", "bench.candidate_app:app", "--http", "httptools",
                                 "--loop", "uvloop", "--no-access-log", "--log-level", "warning",
                                 "--lifespan", "off", "--port", "{port}"],
    "uvicorn+h11+asyncio": ["{bin}/uvicorn", "--factory", "bench.candidate_app:app", "--http", "h11",
                            "--loop", "asyncio", "--no-access-log", "--log-level", "warning",
                            "--lifespan", "off", "--port", "{port}"],
    "granian (asginl, 1 worker)": ["{bin}/granian", "--interface", "asginl", "--factory", "--workers", "1",
                                   "--port", "{port}", "--log-level", "warning", "--no-ws",
                                   "bench.candidate_app:app"],
}  # fmt: skip


def main() -> None:
    """Run each candidate in turn and print req/s and p99 for full, 304 and gzip responses."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="serve-cand-") as tmp:
        root = make_instance(Path(tmp) / "instance", 32)
        env = {
            **os.environ,
            "SYNDICATOR_CONFIG": str(root / "config" / "syndicator.toml"),
            "PYTHONPATH": str(REPO),
        }
        path = "/feeds/en/atom.xml"
        print(f"{'server':<28} {'full':>8} {'p99':>7} {'304':>8} {'p99':>7} {'gzip':>8} {'p99':>7}")
        for name, template in CANDIDATES.items():
            exe = template[0].format(bin=BIN)
            if not Path(exe).exists() and shutil.which(Path(exe).name) is None:
                print(f"{name:<28} not installed")
                continue
            port = free_port()
            cmd = [part.format(bin=BIN, port=port) for part in template]
            proc = subprocess.Popen(
                cmd, env=env, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
            base = f"http://127.0.0.1:{port}"
            try:
                for _ in range(500):
                    try:
                        if fetch(base, path).status == 200:
                            break
                    except OSError:
                        time.sleep(0.02)
                etag = fetch(base, path).headers["etag"]
                cells = []
                for headers in ([], [f"If-None-Match: {etag}"], ["Accept-Encoding: gzip"]):
                    r = wrk(base + path, args.seconds, args.connections, args.threads, headers)
                    cells.append(f"{r['rps']:>8.0f} {r['p99_ms']:>7.2f}")
                print(f"{name:<28} {' '.join(cells)}")
            finally:
                proc.terminate()
                proc.wait(timeout=30)


if __name__ == "__main__":
    main()
