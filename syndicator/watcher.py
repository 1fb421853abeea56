"""Watching the folders people write into (drop folders, the corrections folder) with file-system events.

Editors drop a file and refresh their reader: they expect seconds, not the next poll. So each watched folder
has a thread that listens to the kernel's file events (inotify on Linux, through watchfiles, the library the
config reloader already uses) and hands on the files that changed; the caller polls the source that owns
them. Polling on schedule stays as the safety net: a missed event (a network mount, an inotify queue
overflow, a watcher that could not start) only costs the old latency.

A file is handed on once it has *settled*: its size, modification time and inode unchanged for `settle`
seconds, so a copy under way is never read half-written. Many events for one file (an editor's save in
several steps, a long copy) become one hand-over; the files of one folder that settle together are handed on
together. A file whose settled state was already handed on (an event that changed nothing we read, such as a
chmod) is not handed on again. A file that disappears is handed on at once: there is nothing to wait for.

Nothing here knows what a folder's files mean: which names count (`Folder.accepts`) and what happens to them
(`changed`) are the caller's.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

TICK_MS = 500  # how often a quiet watcher looks at the files waiting to settle (and checks its folder)
STEP_MS = 50  # events arriving this close together are read as one batch
DEBOUNCE_MS = 300  # ... but a batch is handed to the settling at least this often during a long burst
MISSING_CHECK = 2.0  # seconds between looks for a watched folder that does not exist (yet)
RETRY = 60.0  # seconds before a watcher that failed to start (e.g. the inotify limit) tries again

Signature = tuple[int, int, int] | None  # (size, mtime in ns, inode); None: the file is gone


def signature(path: Path) -> Signature:
    """What tells one state of a file from the next: size, modification time and inode (None: gone)."""
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_size, st.st_mtime_ns, st.st_ino)


class Settler:
    """Files seen changing, handed on once each has held still for `settle` seconds.

    Fed by `seen(path)` on every event; `ready()` returns the files that have settled since it was last
    asked. The clock and the stat are parameters so the waiting can be tested without sleeping.
    """

    def __init__(
        self,
        settle: float,
        clock: Callable[[], float] = time.monotonic,
        stat: Callable[[Path], Signature] = signature,
    ) -> None:
        self.settle = settle
        self._clock, self._stat = clock, stat
        self._waiting: dict[Path, tuple[Signature, float]] = {}  # path -> (last state, since when)
        self._handed: dict[Path, Signature] = {}  # path -> the state last handed on

    def seen(self, path: Path) -> None:
        """An event for `path`: it waits (again) until it has been still for the settle time."""
        self._waiting[path] = (self._stat(path), self._clock())

    @property
    def waiting(self) -> int:
        """How many files wait to settle."""
        return len(self._waiting)

    def ready(self) -> list[Path]:
        """The files that have settled (or disappeared) since the last call, sorted; each state once."""
        now = self._clock()
        out: list[Path] = []
        for path, (before, since) in list(self._waiting.items()):
            current = self._stat(path)
            if current != before:
                self._waiting[path] = (current, now)  # still changing: the wait starts again
                continue
            if current is not None and now - since < self.settle:
                continue
            del self._waiting[path]
            if path in self._handed and self._handed[path] == current:
                continue  # this state was handed on already (e.g. a chmod, or the event of our own read)
            out.append(path)
            if current is None:
                self._handed.pop(path, None)  # gone: nothing left to remember (keeps the map bounded)
            else:
                self._handed[path] = current
        return sorted(out)


@dataclass(frozen=True)
class Folder:
    """A folder to watch: `key` names it to the caller; `accepts(folder, path)` says which paths count."""

    key: str
    path: Path
    accepts: Callable[[Path, Path], bool]
    settle: float  # seconds: run.settle
    recursive: bool = False


Changed = Callable[[str, list[Path]], None]  # (folder key, settled paths)


class _FolderThread:
    """One folder's watcher: a daemon thread (a stuck watch must never hold the process at exit)."""

    def __init__(self, folder: Folder, changed: Changed) -> None:
        self.folder = folder
        self.changed = changed
        self.stop_event = threading.Event()
        self.settler = Settler(folder.settle)
        self.watching = threading.Event()  # set while events are being received (tests wait on it)
        self.absent = threading.Event()  # set while the folder does not exist (tests wait on it)
        self.thread = threading.Thread(target=self._run, name=f"watch:{folder.key}", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self, timeout: float) -> None:
        self.stop_event.set()
        if self.thread.is_alive() and self.thread is not threading.current_thread():
            self.thread.join(timeout)

    def _run(self) -> None:
        failed = False
        missing = False
        watched: tuple[int, int] | None = None  # the folder last watched (device, inode)
        while not self.stop_event.is_set():
            path = self.folder.path
            try:
                st = path.stat()
                exists = path.is_dir()
            except OSError:
                exists = False
            if not exists:
                if not missing:
                    log.info("%s does not exist yet: watching for it to appear", path)
                    missing = True
                    self.absent.set()
                self.stop_event.wait(MISSING_CHECK)
                continue
            identity = (st.st_dev, st.st_ino)
            # A folder that appeared or replaced the watched one, or a watch that failed: its files were never
            # seen by a watch, so every one of them is news (those handed on already are skipped).
            rescan = missing or failed or (watched is not None and identity != watched)
            missing, watched = False, identity
            self.absent.clear()
            try:
                self._watch(identity, rescan)
                failed = False
            except Exception as exc:  # no watch possible (inotify limits, permissions): polling carries on
                self.watching.clear()
                level = logging.DEBUG if failed else logging.WARNING
                log.log(
                    level,
                    "cannot watch %s (%s: %s); new files there wait for the next scheduled poll, watching is "
                    "tried again in %.0fs (on Linux, see fs.inotify.max_user_watches/max_user_instances)",
                    path, type(exc).__name__, exc, RETRY,
                )  # fmt: skip
                failed = True
                self.stop_event.wait(RETRY)
        self.watching.clear()

    def _scan(self, where: Path) -> None:
        """Mark every file under `where` that counts as seen (a folder's files no event announced)."""
        walk = where.rglob("*") if self.folder.recursive else where.iterdir()
        try:
            for p in walk:
                if self.folder.accepts(self.folder.path, p):
                    self.settler.seen(p)
        except OSError:
            pass  # gone again: the next look finds out

    def _watch(self, identity: tuple[int, int], rescan: bool) -> None:
        """Watch until told to stop, or until the folder is removed or replaced (then the caller looks again).
        `rescan`: the folder's files were never announced by a watch; they are scanned once the watch is in
        place (the first yield), so a file written in between is not missed."""
        from watchfiles import Change, watch

        folder = self.folder
        for changes in watch(
            folder.path,
            watch_filter=None,  # what counts is the caller's, the same rule its poll applies
            stop_event=self.stop_event,
            debounce=DEBOUNCE_MS,
            step=STEP_MS,
            rust_timeout=TICK_MS,
            yield_on_timeout=True,
            recursive=folder.recursive,
        ):
            self.watching.set()
            if rescan:
                self._scan(folder.path)
                rescan = False
            for change, name in changes:
                p = Path(name)
                if folder.accepts(folder.path, p):
                    self.settler.seen(p)
                elif folder.recursive and change == Change.added and p.is_dir():
                    # Files made in a new subfolder before the kernel watched it send no event of their own
                    # (`mkdir -p fr/newsroom && cp …`): look inside.
                    self._scan(p)
            self._hand_on()
            try:
                st = os.stat(folder.path)
                same = (st.st_dev, st.st_ino) == identity
            except OSError:
                same = False
            if not same:
                log.info("%s was removed or replaced: watching for it again", folder.path)
                self.watching.clear()
                return

    def _hand_on(self) -> None:
        ready = self.settler.ready()
        if not ready:
            return
        try:
            self.changed(self.folder.key, ready)
        except Exception:  # the caller's bug must not end the watch
            log.exception("handling changed files in %s failed", self.folder.path)


class FolderWatcher:
    """Watches a set of folders, one thread each; settled files go to `changed(key, paths)` (on that thread:
    it should return quickly, e.g. by scheduling a poll)."""

    def __init__(self, changed: Changed) -> None:
        self.changed = changed
        self._threads: dict[Folder, _FolderThread] = {}
        self._lock = threading.Lock()

    @property
    def folders(self) -> list[Folder]:
        """The folders watched now."""
        with self._lock:
            return list(self._threads)

    def thread_of(self, key: str) -> _FolderThread | None:
        """The watcher thread of a folder, by key (for tests and status)."""
        with self._lock:
            return next((t for f, t in self._threads.items() if f.key == key), None)

    def update(self, folders: Sequence[Folder]) -> None:
        """Watch exactly these folders: stop the watchers of folders gone or changed, start the new ones."""
        wanted = list(dict.fromkeys(folders))
        with self._lock:
            old = {f: t for f, t in self._threads.items() if f not in wanted}
            for f in old:
                del self._threads[f]
            new = [f for f in wanted if f not in self._threads]
            for f in new:
                self._threads[f] = _FolderThread(f, self.changed)
            started = [self._threads[f] for f in new]
        for t in old.values():
            t.stop(timeout=5)
        for t in started:
            log.info("watching %s for new and changed files (settle %gs)", t.folder.path, t.folder.settle)
            t.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop every watcher thread and wait (at most `timeout` each) for it to end."""
        with self._lock:
            threads = list(self._threads.values())
            self._threads.clear()
        for t in threads:
            t.stop_event.set()
        for t in threads:
            t.stop(timeout)
