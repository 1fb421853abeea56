"""The built-in server's memory does not grow with the published archive (a functional bound, not a timing).

`syndicator serve` runs as its own process over 20,000 published files with serve.cache_bytes at 2 MiB. It
reads none of them to start, and after readers have pulled 8,000 different ones (about 55 MB of bodies and
compressed bodies if every one were kept, as the server once did) its resident memory has grown by no more
than the cache plus a fixed allowance for the interpreter's own heap.
"""

from __future__ import annotations

import http.client
import re
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.servers import fetch, serve_process

FILES = 20_000
PULLED = 8_000
CACHE = 2 * 1024 * 1024
ALLOWANCE = (
    24 * 1024 * 1024
)  # allocator slack and the interpreter's own heap; well under what 8,000 files hold


def _rss(pid: int) -> int:
    """Resident memory of a process, in bytes (Linux /proc)."""
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1)) * 1024  # type: ignore[union-attr]


def _metric(base: str, name: str) -> float:
    text = fetch(base, "/metrics").body.decode()
    return float(re.search(rf"^{name} (\S+)$", text, re.MULTILINE).group(1))  # type: ignore[union-attr]


def _entry(i: int) -> bytes:
    """A 4 KB entry page: text that compresses like a real one."""
    para = f"<p>Story {i}: the harbour authority said works continue on pier {i % 97}.</p>\n"
    return (f"<!doctype html><title>{i}</title>\n" + para * 60).encode()[:4096]


def _pull(base: str, paths: list[str]) -> None:
    """GET every path over one keep-alive connection, as a crawler would."""
    host, port = base.removeprefix("http://").rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=60)
    try:
        for path in paths:
            conn.request("GET", path, headers={"Accept-Encoding": "br, gzip"})
            response = conn.getresponse()
            response.read()
            assert response.status == 200, path
    finally:
        conn.close()


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads resident memory from Linux /proc")
def test_memory_stays_bounded_however_many_files_are_published(make_instance: Callable[..., Path]) -> None:
    root = make_instance(
        targets=("fr",), engine="pseudo", extra=f"\n[serve]\nport = 0\ncache_bytes = {CACHE}\nbrotli = true\n"
    )
    feeds = root / "feeds"
    for i in range(FILES):  # test data written directly: 20,000 fsyncs through the writer would be slow
        folder = feeds / "fr" / f"s{i % 200}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{i}.html").write_bytes(_entry(i))
    paths = [f"/feeds/fr/s{i % 200}/{i}.html" for i in range(FILES)]
    with serve_process(root / "config" / "syndicator.toml") as served:
        assert _metric(served.base, "syndicator_serve_cache_loads_total") == 0  # nothing read to start
        pid = served.proc.pid
        _pull(served.base, paths[:100])
        before = _rss(pid)
        batches = [paths[100 + k : 100 + PULLED : 4] for k in range(4)]
        threads = [threading.Thread(target=_pull, args=(served.base, batch)) for batch in batches]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=600)
        after = _rss(pid)
        held = _metric(served.base, "syndicator_serve_cache_bytes")
        loads = _metric(served.base, "syndicator_serve_cache_loads_total")
    assert served.proc.returncode == 0, served.output
    assert loads >= PULLED  # every file was really read, and none of them is still held beyond the budget
    assert held <= CACHE
    assert after - before < CACHE + ALLOWANCE, (before, after)
