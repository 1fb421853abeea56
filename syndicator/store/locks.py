"""Named locks that live as long as a process holds them: one scheduler among several, one publisher per
language among several workers.

On PostgreSQL a lock is a session-level advisory lock (`pg_try_advisory_lock`) on a connection of its own,
kept open while it is held: the server drops it the moment that session ends, so a holder that dies (kill -9,
a crashed machine once the server's keepalive gives up on it) frees it without anyone cleaning up. The holder
checks its connection (`alive()`); a lost connection means the lock is gone and the holder must step down.

On SQLite (one machine) it is an flock(2) on a file beside the database, which the kernel drops when the
process ends; an in-memory database has nothing to lock beside it, so a lock inside this process stands in.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
import re
import threading
from datetime import timedelta
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from syndicator.store.base import StoreBase

log = logging.getLogger(__name__)

_LOCAL: dict[str, threading.Lock] = {}  # in-memory databases: locks of this process
_LOCAL_GUARD = threading.Lock()


class HeldLock(Protocol):
    """A lock this process holds until release() (or until it dies)."""

    name: str

    def alive(self) -> bool:
        """Whether the lock is still held (False once the database connection behind it is lost)."""
        ...

    def release(self) -> None:
        """Give the lock back."""
        ...


def advisory_key(name: str) -> int:
    """The 64-bit key of a named lock: the same on every machine and release."""
    digest = hashlib.sha256(f"syndicator:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class _AdvisoryLock:
    def __init__(self, name: str, conn: Any, key: int) -> None:
        self.name, self._conn, self._key = name, conn, key
        self._lost = False

    def alive(self) -> bool:
        if self._lost:
            return False
        try:
            # The lock is ours as long as this session lives; a round trip proves the session does.
            self._conn.exec_driver_sql("SELECT 1").scalar()
            return True
        except SQLAlchemyError as exc:
            log.warning("lock %s: lost the database connection (%s)", self.name, exc)
            self._lost = True
            self._close()
            return False

    def release(self) -> None:
        if not self._lost:
            # If this fails the session is going anyway, and the lock with it.
            with contextlib.suppress(SQLAlchemyError):
                self._conn.exec_driver_sql(f"SELECT pg_advisory_unlock({self._key})")
        self._lost = True
        self._close()

    def _close(self) -> None:
        with contextlib.suppress(SQLAlchemyError):
            self._conn.invalidate()  # never hand this session back to the pool: it may still hold the lock
            self._conn.close()


class _FileLock:
    def __init__(self, name: str, fd: int) -> None:
        self.name, self._fd = name, fd

    def alive(self) -> bool:
        return self._fd >= 0

    def release(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)  # releases the flock
            self._fd = -1


class _LocalLock:
    def __init__(self, name: str, lock: threading.Lock) -> None:
        self.name, self._lock, self._held = name, lock, True

    def alive(self) -> bool:
        return self._held

    def release(self) -> None:
        if self._held:
            self._held = False
            self._lock.release()


class LocksMixin(StoreBase):
    """Named locks held by a process (see the module doc)."""

    def try_lock(self, name: str, *, keepalive: timedelta | None = None) -> HeldLock | None:
        """Take the named lock if no process holds it; None when one does. `keepalive`: on PostgreSQL, how
        soon the server notices a holder whose machine vanished (TCP keepalives of the lock's session)."""
        if self.engine.dialect.name == "postgresql":
            return self._try_advisory(name, keepalive)
        database = make_url(str(self.engine.url)).database
        if database in (None, "", ":memory:"):
            with _LOCAL_GUARD:
                lock = _LOCAL.setdefault(name, threading.Lock())
            return _LocalLock(name, lock) if lock.acquire(blocking=False) else None
        safe = re.sub(r"[^A-Za-z0-9_.-]", "_", name)
        path = Path(f"{database}.{safe}.lock")
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return None
        return _FileLock(name, fd)

    def _try_advisory(self, name: str, keepalive: timedelta | None) -> HeldLock | None:
        key = advisory_key(name)
        conn = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        try:
            if keepalive is not None:
                # Server side: a dead holder's session (and so its lock) ends after about idle + 3 × interval.
                idle = max(1, int(keepalive.total_seconds() / 2))
                interval = max(1, int(keepalive.total_seconds() / 6))
                for setting, value in (("tcp_keepalives_idle", idle), ("tcp_keepalives_interval", interval),
                                       ("tcp_keepalives_count", 3)):  # fmt: skip
                    conn.exec_driver_sql(f"SET {setting} = {value}")
            got = bool(conn.exec_driver_sql(f"SELECT pg_try_advisory_lock({key})").scalar())
        except BaseException:
            conn.invalidate()
            conn.close()
            raise
        if not got:
            conn.close()
            return None
        return _AdvisoryLock(name, conn, key)
