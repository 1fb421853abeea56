"""A tiny threaded HTTP server on 127.0.0.1 serving a folder of published feeds (test fixtures only)."""

from __future__ import annotations

import functools
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
        pass


@contextmanager
def serve_folder(folder: Path) -> Iterator[str]:
    """Serve `folder` on an ephemeral 127.0.0.1 port; yield its base URL ("http://127.0.0.1:N/")."""
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def rsstail(folder: Path, relpath: str, *flags: str) -> str:
    """rsstail's one-shot listing (`-1 -N -n 100` plus `flags`) of a feed in `folder`, served over HTTP."""
    with serve_folder(folder) as base:
        result = subprocess.run(
            ["rsstail", "-1", *flags, "-N", "-n", "100", "-u", f"{base}{relpath}"],
            env={"LANG": "C.UTF-8", "PATH": "/usr/bin:/bin"},
            capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
        )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout
