"""Exactly one scheduler: of several `syndicator run` processes sharing a store, only the one holding the
store's `scheduler` lock polls and schedules; the others wait as standbys and take over when it goes.

The lock (store/locks.py) is a PostgreSQL session-level advisory lock on a connection of its own: it ends
with the holder's session, so a holder killed outright frees it at once, and one whose machine vanished frees
it once the server's TCP keepalives (set from run.failover) give up on the session. A standby tries every
third of run.failover, so it takes over within run.failover of the holder's death. The holder checks its lock
connection just as often: a lost connection means the lock may already be someone else's, so it steps down
(stops scheduling) and becomes a standby. On SQLite the lock is an flock beside the database file: one
machine, and the first process keeps it.

Between a holder losing its lock and noticing, both could poll: each poll first takes its slot in the store
(`Store.start_poll`), so a source is never polled twice for one slot even then.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import timedelta

from syndicator.errors import SyndicatorError
from syndicator.store import HeldLock, Store

log = logging.getLogger(__name__)

LOCK = "scheduler"


class Leadership:
    """Holds the scheduler lock while leading (calling `lead` once won) and `follow` once lost."""

    def __init__(
        self,
        store: Store,
        failover: timedelta,
        *,
        lead: Callable[[], None],
        follow: Callable[[], None],
        stopping: threading.Event,
    ) -> None:
        self.store, self.failover = store, failover
        self._lead, self._follow = lead, follow
        self.stopping = stopping
        self.interval = max(1.0, failover.total_seconds() / 3)
        self._lock: HeldLock | None = None
        self._thread: threading.Thread | None = None
        self._waiting_logged = False

    @property
    def leading(self) -> bool:
        """Whether this process holds the lock (as far as it last checked)."""
        return self._lock is not None

    def start(self) -> None:
        """Try once now (a lone process leads at once), then keep trying or checking in the background."""
        self._step()
        self._thread = threading.Thread(target=self._loop, name="leadership", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self.stopping.wait(self.interval):
            self._step()

    def _step(self) -> None:
        if self._lock is not None:
            if self._lock.alive():
                return
            self._lock = None
            log.error("lost the scheduler lock (store connection lost): stepping down to standby")
            self._follow()
            return
        try:
            self._lock = self.store.try_lock(LOCK, keepalive=self.failover)
        except SyndicatorError as exc:
            log.error("cannot reach the store for the scheduler lock: %s", exc)
            return
        except Exception as exc:  # the database unreachable: stay a standby and try again
            log.error("cannot reach the store for the scheduler lock: %s: %s", type(exc).__name__, exc)
            return
        if self._lock is None:
            if not self._waiting_logged:
                log.info("standby: another process schedules; trying every %.0fs", self.interval)
                self._waiting_logged = True
            return
        self._waiting_logged = False
        log.info("this process now polls and schedules (holds the scheduler lock)")
        self._lead()

    def release(self) -> None:
        """Stop trying and give the lock back (after the work under way finished)."""
        self.stopping.set()
        if self._lock is not None:
            self._lock.release()
            self._lock = None
