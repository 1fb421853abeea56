"""Helpers for tests that run the service: articles dropped atomically, waiting on conditions, subprocesses."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO

REPO = Path(__file__).resolve().parents[2]
SLOW_RUN = Path(__file__).with_name("slow_run.py")
LIVENESS = 120.0  # seconds before a wait gives up: a hang guard, never an assertion about speed


# slow_run.py logs this when a slowed batch is under way: tests wait for it rather than for a guess.
SLOW_BATCH_STARTED = "slow batch started"


def write_article(folder: Path, key: str, title: str, body: str, language: str = "en", day: int = 1) -> Path:
    """Drop a Markdown article the way a newsroom tool should: whole, by rename."""
    text = (
        f"---\ntitle: {title}\ndate: 2026-03-{day:02d}T08:00:00+08:00\nid: {key}\nlanguage: {language}\n---\n"
        f"{body}\n"
    )
    path = folder / f"{key}.md"
    tmp = folder / f".{key}.md.tmp"
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    return path


def wait_for(predicate: Callable[[], object], what: str, timeout: float = LIVENESS) -> None:
    """Poll until predicate() is true; fail naming `what` if it never becomes true (hang guard)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for: {what}")


class ServiceProcess:
    """`syndicator run` in a subprocess, its log in a file."""

    def __init__(self, root: Path, *args: str, slow: float = 0.0, env: dict[str, str] | None = None) -> None:
        self.root = root
        self.log_path = root / f"service-{time.monotonic_ns()}.log"
        self._log: IO[bytes] = self.log_path.open("wb")
        runner = [sys.executable, str(SLOW_RUN)] if slow else [sys.executable, "-m", "syndicator"]
        full_env = {**os.environ, "PYTHONPATH": str(REPO), "SLOW_PSEUDO_DELAY": str(slow), **(env or {})}
        self.proc = subprocess.Popen(
            [*runner, "--config", str(root / "config" / "syndicator.toml"), *args, "run"],
            cwd=root,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=full_env,
        )

    def log(self) -> str:
        """Everything the service logged so far."""
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def kill9(self) -> None:
        """kill -9: no clean-up at all."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=LIVENESS)
        self._log.close()

    def terminate(self) -> int:
        """SIGTERM and wait for the exit code."""
        self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(timeout=LIVENESS)
        self._log.close()
        return code

    def __enter__(self) -> ServiceProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=LIVENESS)
        self._log.close()
