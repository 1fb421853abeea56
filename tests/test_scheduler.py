"""The scheduler alone (syndicator/scheduler.py), with real APScheduler threads and a recording poll."""

from __future__ import annotations

import threading

from syndicator.scheduler import Scheduler
from tests.support.service import wait_for


def test_a_pickup_during_a_pickup_poll_gets_a_poll_of_its_own() -> None:
    """A file settles while the pickup poll of an earlier one is still running: it must be polled right after,
    not left for the next scheduled poll (APScheduler skips a job whose one instance is running)."""
    release = threading.Event()
    polls: list[str] = []

    def poll(name: str, pickup: bool) -> bool:
        polls.append(name)
        if len(polls) == 1:
            release.wait(timeout=60)  # the first pickup poll is slow (a big folder, a publish of originals)
        return False

    stopping = threading.Event()
    scheduler = Scheduler(poll=poll, one_pass=lambda: False, housekeeping=lambda: False, stopping=stopping)
    scheduler.start()
    try:
        scheduler.poll_soon("drops")
        wait_for(lambda: len(polls) == 1, "the first pickup poll to start")
        scheduler.poll_soon("drops")  # the second file settles meanwhile
        scheduler.poll_soon(
            "drops"
        )  # and a third: the waiting poll lists the folder after it, one poll is enough
        release.set()
        wait_for(lambda: len(polls) >= 2, "a poll after the running one")
        assert scheduler.wait_idle(timeout=30)
        assert polls == ["drops", "drops"] or polls == ["drops", "drops", "drops"]
    finally:
        stopping.set()
        scheduler.shutdown()
