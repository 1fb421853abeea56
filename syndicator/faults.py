"""Fault injection points: every feed file write and every store commit passes through `point()`.

Off (a no-op) unless the environment variable SYNDICATOR_FAULTS is set, which only tests do. Because the
single feed writer (publish/writer.py) and the store's single transaction helper (`Store._tx`) are the
only places durable state changes, the points they declare are every point there is: a new write or
commit anywhere is covered by the fault-injection test without anyone listing it.

SYNDICATOR_FAULTS is one of:

- ``record PATH``: append one line per point reached to PATH, ``kind<TAB>label<TAB>normalized label``.
- ``MODE KIND LABEL N``: at the N-th (1-based) point of KIND whose normalized label is LABEL, with MODE
  ``kill-before`` (SIGKILL just before the change is made durable: for a file, its complete temp file
  exists but is not yet renamed; for a commit, the transaction is open), ``kill-after`` (SIGKILL just
  after it), or ``enospc`` (that write or commit fails as on a full disk, a delete with EIO; the process goes
  on).

Labels are normalized so that points of the same kind in different languages, archive pages, entries or
calling threads count as one: ``fr/archive/3/rss.xml`` → ``<lang>/archive/<n>/rss.xml``.
"""

from __future__ import annotations

import os
import re
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass

ENV = "SYNDICATOR_FAULTS"
WRITE, DELETE, COMMIT = "write", "delete", "commit"
KILL_BEFORE, KILL_AFTER, ENOSPC = "kill-before", "kill-after", "enospc"
MODES = (KILL_BEFORE, KILL_AFTER, ENOSPC)

_LANG = r"[a-z]{2,3}(?:-[A-Za-z0-9]{1,8})*"
_NORMALIZE = (
    (re.compile(rf"^{_LANG}/archive/\d+/"), "<lang>/archive/<n>/"),
    (re.compile(rf"^{_LANG}/[^/]+/[^/]+\.html(\.gz)?$"), r"<lang>/<source>/<entry>.html\1"),
    (re.compile(rf"^{_LANG}/"), "<lang>/"),
    (re.compile(r"^media/[0-9a-f]+\."), "media/<hash>."),
)


def normalize(kind: str, label: str) -> str:
    """The label with languages, page numbers and entry names replaced, so each kind of point is one."""
    if kind == COMMIT:
        return label
    for pattern, replacement in _NORMALIZE:
        label, n = pattern.subn(replacement, label, count=1)
        if n:
            break
    return label


@dataclass(frozen=True)
class _Plan:
    record: str = ""  # file the points are appended to
    mode: str = ""
    kind: str = ""
    label: str = ""
    nth: int = 0


def _parse(spec: str) -> _Plan:
    words = spec.split()
    if len(words) == 2 and words[0] == "record":
        return _Plan(record=words[1])
    if len(words) == 4 and words[0] in MODES and words[3].isdigit() and int(words[3]) >= 1:
        return _Plan(mode=words[0], kind=words[1], label=words[2], nth=int(words[3]))
    raise ValueError(
        f"{ENV}={spec!r}: expected 'record PATH' or 'MODE KIND LABEL N' (MODE: {', '.join(MODES)})"
    )


class Point:
    """One point reached: what the code at that point must do (nothing, almost always)."""

    __slots__ = ("mode",)

    def __init__(self, mode: str = "") -> None:
        self.mode = mode

    def fail(self, error: Callable[[], BaseException]) -> None:
        """Raise error() where the planned failure happens (call where the change would be made)."""
        if self.mode == ENOSPC:
            raise error()

    def kill_before(self) -> None:
        """SIGKILL now if this point was planned to die before its change."""
        if self.mode == KILL_BEFORE:
            _kill()

    def kill_after(self) -> None:
        """SIGKILL now if this point was planned to die after its change."""
        if self.mode == KILL_AFTER:
            _kill()


NOTHING = Point()  # what every point returns while fault injection is off
_lock = threading.Lock()
_counts: dict[tuple[str, str], int] = {}
_parsed: tuple[str, _Plan] | None = None


def active() -> bool:
    """Whether fault injection is on (callers skip work that only labels need)."""
    return bool(os.environ.get(ENV))


def point(kind: str, label: str) -> Point:
    """Declare that a write, delete or commit of `label` is about to happen; returns what to do there."""
    spec = os.environ.get(ENV)
    if not spec:
        return NOTHING
    global _parsed
    with _lock:
        if _parsed is None or _parsed[0] != spec:
            _parsed = (spec, _parse(spec))
            _counts.clear()
        plan = _parsed[1]
        normalized = normalize(kind, label)
        if plan.record:
            line = f"{kind}\t{label}\t{normalized}\n".encode()
            fd = os.open(plan.record, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                os.write(fd, line)  # one write per line, unbuffered: a kill loses nothing recorded
            finally:
                os.close(fd)
            return NOTHING
        if (kind, normalized) != (plan.kind, plan.label):
            return NOTHING
        key = (kind, normalized)
        _counts[key] = _counts.get(key, 0) + 1
        return Point(plan.mode) if _counts[key] == plan.nth else NOTHING


def _kill() -> None:
    # A real SIGKILL: no finally blocks, no atexit, no flushing; exactly what the OOM killer or a power
    # cut leaves (minus the page cache, which fsync covers).
    os.kill(os.getpid(), signal.SIGKILL)
