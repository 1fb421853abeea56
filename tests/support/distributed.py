"""A distributed instance for the tests: the store on the session's PostgreSQL, the broker a fresh virtual host
of the session's RabbitMQ node, and `syndicator worker` / `syndicator run` processes to start and kill."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import IO

from tests.support.postgres import PostgresServer
from tests.support.rabbitmq import RabbitMQNode
from tests.support.service import LIVENESS, REPO, SLOW_RUN


def distributed_toml(
    postgres: PostgresServer, rabbitmq: RabbitMQNode, *, publish: str = "", **run: str
) -> str:
    """[store] and [run] tables for a distributed instance (extra [run] settings as strings).

    Feeds go to the instance's local folder. `publish`: extra [publish] settings (TOML lines) — the hook for
    feeds on object storage: once the feed writer can write to S3 (`publish.target = "s3://…"`, a moto
    server as the endpoint), the distributed configuration passes them here and every test of it (the
    end-to-end suite's `celery` case, tests/test_distributed.py) publishes there instead.
    """
    settings = {"runner": "celery", "broker": rabbitmq.vhost(), "publish_delay": "1s", **run}
    lines = "".join(f'{key} = "{value}"\n' for key, value in settings.items())
    text = f'\n[store]\nurl = "{postgres.database()}"\n\n[run]\n{lines}'
    return text + (f"\n[publish]\n{publish}\n" if publish else "")


class Process:
    """A `syndicator` command in a subprocess of its own process group, its output in a file."""

    def __init__(
        self, root: Path, *command: str, slow: float = 0.0, name: str = "", env: dict[str, str] | None = None
    ) -> None:
        self.root = root
        self.log_path = root / f"{name or command[0]}-{uuid.uuid4().hex[:8]}.log"
        self._log: IO[bytes] = self.log_path.open("wb")
        runner = [sys.executable, str(SLOW_RUN)] if slow else [sys.executable, "-m", "syndicator"]
        environ = {**os.environ, "PYTHONPATH": str(REPO), "SLOW_PSEUDO_DELAY": str(slow), **(env or {})}
        self.proc = subprocess.Popen(
            [*runner, "--config", str(root / "config" / "syndicator.toml"), *command],
            cwd=root, stdout=self._log, stderr=subprocess.STDOUT, env=environ, start_new_session=True,
        )  # fmt: skip

    @property
    def pid(self) -> int:
        return self.proc.pid

    def log(self) -> str:
        """Everything it printed so far."""
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def children(self) -> list[int]:
        """Pids of its child processes (a prefork worker's pool processes)."""
        try:
            text = Path(f"/proc/{self.pid}/task/{self.pid}/children").read_text()
        except OSError:
            return []
        return [int(p) for p in text.split()]

    def kill9(self) -> None:
        """kill -9 the whole process group: a machine lost, no clean-up at all."""
        os.killpg(self.pid, signal.SIGKILL)
        self.proc.wait(timeout=LIVENESS)

    def stop(self) -> None:
        """SIGTERM (a worker finishes its task; `run` stops cleanly), then make sure nothing of it is left."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        self.wait_gone()

    def wait_gone(self) -> None:
        """Wait for a stop asked for; kill what is left of the process group."""
        if self.proc.poll() is None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=LIVENESS)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGKILL)  # whatever is left of the group (pool processes)
        self.proc.wait(timeout=LIVENESS)
        self._log.close()


def worker(
    root: Path, pairs: Sequence[str], *, publish: bool = False, slow: float = 0.0, hold: Path | None = None
) -> Process:
    """`syndicator worker --pairs …` (and --publish). With `hold`, its tasks stop right after claiming their
    articles while that file exists (tests/support/slow_run.py): a place to kill it mid-task."""
    args = ["worker", "--pairs", ",".join(pairs), *(["--publish"] if publish else [])]
    env = {"SLOW_HOLD_FILE": str(hold)} if hold else {}
    return Process(
        root, *args, slow=slow or (0.01 if hold else 0.0), name="worker-" + "+".join(pairs), env=env
    )


def stop_all(processes: Sequence[Process]) -> None:
    """Stop several at once: every SIGTERM first, then the waits (a worker's warm shutdown takes seconds)."""
    for process in processes:
        if process.proc.poll() is None:
            process.proc.send_signal(signal.SIGTERM)
    for process in processes:
        process.wait_gone()
