"""One writer per embedded instance: the lock `run`, `run --once`, `publish` and `verify` hold while they work.

An flock(2) on data/syndicator.lock: the kernel drops it when the process ends, however it ends (kill -9
included), so a lock is never left behind and there is no stale-pid guessing. The file says who holds it.
Everything goes through `lock_instance`, so another kind of lock (a PostgreSQL advisory lock for instances
whose processes run on several machines) can take its place without touching the commands.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from syndicator.config import Config
from syndicator.errors import InstanceBusy

LOCK_FILE = "syndicator.lock"


def lock_path(config: Config) -> Path:
    """Where an instance's lock lives: its data folder, beside the store."""
    return config.root / "data" / LOCK_FILE


def shared_store(config: Config) -> bool:
    """Whether the store is one several processes (on several machines) share on purpose: PostgreSQL."""
    return not config.store.url.startswith("sqlite")


@contextlib.contextmanager
def lock_instance(config: Config, command: str) -> Iterator[None]:
    """Hold the instance's lock for the block; raise InstanceBusy naming the holder if another has it.

    Only an embedded SQLite store is one process's: a PostgreSQL store is shared by several `syndicator run`
    (one schedules, the others stand by: leadership.py), workers and commands on purpose, and they take turns
    through the store's own named locks (the scheduler lock, the publish lock) instead."""
    if shared_store(config):
        yield
        return
    path = lock_path(config)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise InstanceBusy(
                f"another syndicator process holds this instance ({_holder(path)}; lock {path})",
                hint="stop it first; `syndicator status` works while it runs",
            ) from None
        # Who holds it, for the message above; written after locking, so only the holder writes.
        me = {"pid": os.getpid(), "host": socket.gethostname(), "command": command,
              "since": datetime.now(UTC).isoformat(timespec="seconds"), "argv": sys.argv[1:]}  # fmt: skip
        os.ftruncate(fd, 0)
        os.pwrite(fd, (json.dumps(me) + "\n").encode(), 0)
        yield
    finally:
        os.close(fd)  # releases the lock


def _holder(path: Path) -> str:
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
        return f"pid {info['pid']} on {info['host']}, `syndicator {info['command']}` since {info['since']}"
    except (OSError, ValueError, KeyError, TypeError):
        return "pid unknown: it is just starting"
