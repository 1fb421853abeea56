"""How the built-in server answers while hostile clients hold connections: latency of /healthz and of a feed with
N connections that each sent half a request, under a given open-file limit, and how much of an endless header
the server takes before refusing it.

    .venv/bin/python bench/slow_clients.py                         # 1,100 slow clients, 1,024 descriptors
    .venv/bin/python bench/slow_clients.py --clients 200 --nofile 256 --samples 20 --json

`syndicator serve` runs as its own process with RLIMIT_NOFILE set to --nofile (soft and hard), as under a systemd
unit without LimitNOFILE. Each latency is one request on a new connection; the script prints the median and the
maximum before and during the flood.
"""

from __future__ import annotations

import argparse
import json
import resource
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.serve_bench import make_instance  # noqa: E402
from tests.support.servers import fetch, half_requests, serve_process  # noqa: E402


def _latencies(base: str, path: str, samples: int) -> list[float]:
    out = []
    for _ in range(samples):
        started = time.perf_counter()
        status = fetch(base, path).status
        out.append(time.perf_counter() - started)
        if status != 200:
            raise SystemExit(f"{path} answered {status}")
    return out


def _summary(values: list[float]) -> dict[str, float]:
    return {"median_ms": round(statistics.median(values) * 1000, 2), "max_ms": round(max(values) * 1000, 2)}


def _oversized_header(port: int, limit_bytes: int = 150 * 1024 * 1024) -> dict[str, float]:
    """Stream one endless header; how many bytes went out before the server refused, and how long it took."""
    sent = 0
    chunk = b"a" * 65536
    started = time.perf_counter()
    with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 65536)
        try:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ")
            while sent < limit_bytes:
                sock.sendall(chunk)
                sent += len(chunk)
        except OSError:
            pass
    return {"bytes_sent_before_refusal": sent, "seconds": round(time.perf_counter() - started, 3)}


def main() -> None:
    """Start the server under the descriptor limit, measure, flood, measure again."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=1100)
    parser.add_argument("--nofile", type=int, default=1024)
    parser.add_argument("--samples", type=int, default=50)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < args.clients + 100:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, args.clients + 100), hard))

    with tempfile.TemporaryDirectory() as tmp:
        root = make_instance(Path(tmp) / "instance", articles=8)
        with serve_process(root / "config" / "syndicator.toml", nofile=args.nofile) as served:
            base = served.base
            result: dict[str, object] = {"clients": args.clients, "nofile": args.nofile}
            result["healthz_idle"] = _summary(_latencies(base, "/healthz", args.samples))
            started = time.perf_counter()
            slow = half_requests(served.port, args.clients)
            result["flood_seconds"] = round(time.perf_counter() - started, 2)
            try:
                result["healthz_flooded"] = _summary(_latencies(base, "/healthz", args.samples))
                result["feed_flooded"] = _summary(_latencies(base, "/feeds/en/atom.xml", args.samples))
                result["oversized_header"] = _oversized_header(served.port)
                metrics = fetch(base, "/metrics").body.decode()
            finally:
                for sock in slow:
                    sock.close()
        result["server_metrics"] = [
            line for line in metrics.splitlines() if "connection" in line and not line.startswith("#")
        ]
    if args.json:
        print(json.dumps(result, indent=2))
        return
    for key, value in result.items():
        print(f"{key}: {value}")


if __name__ == "__main__":
    main()
