"""The built-in server's file cache: bounded by bytes, filled on demand, told what changed.

Unit tests of serve/filecache.py over real writers (memory, and a real folder with real file-system events);
the server around it is tested in test_serving_table.py, test_server.py and test_server_memory.py.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from syndicator.publish.writer import LocalFolderWriter, MemoryFeedWriter, Stored, Unchanged
from syndicator.serve.filecache import ENTRY_OVERHEAD, LARGEST_SHARE, FileCache, FolderWatcher, servable

MB = 1024 * 1024


def _text(i: int, size: int) -> bytes:
    """Deterministic, only mildly compressible XML of about `size` bytes."""
    seed = hashlib.sha256(str(i).encode()).hexdigest()
    return (f"<item>{seed}</item>\n" * (size // 70 + 1)).encode()[:size]


def _cache(source: object, **kwargs: object) -> FileCache:
    cache = FileCache(source, lambda rel: "public, max-age=60", **kwargs)  # type: ignore[arg-type]
    source.listeners.append(cache.changed)  # type: ignore[attr-defined]
    return cache


def _wait(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 60  # events on a loaded machine: generous, not a timed assertion
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


def test_memory_is_bounded_by_bytes_least_recently_used_out_first() -> None:
    source = MemoryFeedWriter()
    for i in range(300):
        source.write(f"fr/archive/{i}/atom.xml", _text(i, 8000))
    cache = _cache(source, max_bytes=MB)
    for i in range(300):
        assert cache.get(f"fr/archive/{i}/atom.xml") is not None
        assert cache.bytes <= MB
    assert 0 < len(cache) < 300 and cache.loads == 300
    # The newest are held, the oldest went first; a hit refreshes an entry's place.
    assert cache.cached("fr/archive/299/atom.xml")[0] and not cache.cached("fr/archive/0/atom.xml")[0]
    oldest_held = min(i for i in range(300) if cache.cached(f"fr/archive/{i}/atom.xml")[0])
    cache.get(f"fr/archive/{oldest_held}/atom.xml")  # used again: now the newest
    cache.get("fr/archive/0/atom.xml")  # a miss that evicts the least recently used
    assert cache.cached(f"fr/archive/{oldest_held}/atom.xml")[0]
    assert not cache.cached(f"fr/archive/{oldest_held + 1}/atom.xml")[0]
    assert cache.bytes == sum(slot.size for slot in cache._slots.values())  # the accounting is exact


def test_a_hit_reads_nothing_and_a_write_through_the_writer_is_seen_at_once() -> None:
    source = MemoryFeedWriter()
    source.write("fr/atom.xml", _text(1, 2000))
    cache = _cache(source)
    first = cache.get("fr/atom.xml")
    assert first is not None and set(first.variants) == {"identity", "gzip", "br"}
    for _ in range(5):
        assert cache.get("fr/atom.xml") is first
    assert cache.loads == 1
    changed: list[list[str]] = []
    cache.listeners.append(changed.append)
    source.write("fr/atom.xml", _text(2, 2000))  # the writer tells the cache (same process)
    assert changed == [["fr/atom.xml"]] and not cache.cached("fr/atom.xml")[0]
    second = cache.get("fr/atom.xml")
    assert second is not None and second.etag != first.etag
    source.delete("fr/atom.xml")
    assert cache.get("fr/atom.xml") is None


def test_files_too_big_to_keep_are_served_but_not_held() -> None:
    source = MemoryFeedWriter()
    big = _text(3, 2 * MB // LARGEST_SHARE + 1)
    source.write("big.xml", big)
    cache = _cache(source, max_bytes=2 * MB)
    entry = cache.get("big.xml")
    assert entry is not None and entry.variants["identity"].body == big
    assert set(entry.variants) == {"identity"}  # not compressed either: it would be, on every request
    assert len(cache) == 0 and cache.bytes == 0


def test_revalidation_reads_no_bytes_when_unchanged_and_remembers_what_is_missing() -> None:
    source = MemoryFeedWriter()
    source.write("fr/rss.xml", b"<rss/>")
    seen: list[str] = []

    class Counting:
        listeners = source.listeners

        def load(self, relpath: str, known: str = "") -> Stored | Unchanged | None:
            seen.append(known)
            return source.load(relpath, known)

    cache = _cache(Counting(), revalidate_after=0.0, remember_missing=True)  # object storage, serve.refresh
    first = cache.get("fr/rss.xml")
    assert cache.get("fr/rss.xml") is first  # revalidated (UNCHANGED): the same entry, nothing rebuilt
    assert seen == ["", first.version]  # type: ignore[union-attr]
    assert cache.get("fr/none.xml") is None
    assert cache.cached("fr/none.xml") == (False, None)  # remembered, but stale at once with 0 s
    patient = _cache(Counting(), revalidate_after=3600.0, remember_missing=True)
    assert patient.get("fr/none.xml") is None
    assert patient.cached("fr/none.xml") == (True, None)  # a flood of 404s does not reach the bucket


def test_a_change_during_a_read_is_not_lost() -> None:
    source = MemoryFeedWriter()
    source.write("fr/atom.xml", b"<feed>old</feed>")
    cache: FileCache

    class Racing:
        listeners = source.listeners

        def load(self, relpath: str, known: str = "") -> Stored | Unchanged | None:
            got = source.load(relpath, known)
            if got is not None and not isinstance(got, Unchanged) and got.data == b"<feed>old</feed>":
                source.write("fr/atom.xml", b"<feed>new</feed>")  # published while we were reading
            return got

    cache = _cache(Racing())
    assert cache.get("fr/atom.xml").variants["identity"].body == b"<feed>old</feed>"  # type: ignore[union-attr]
    assert not cache.cached("fr/atom.xml")[0]  # kept, but asked again at the next request
    assert cache.get("fr/atom.xml").variants["identity"].body == b"<feed>new</feed>"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("relpath", "ok"),
    [
        ("fr/atom.xml", True),
        ("index.html", True),
        ("fr/atom.xml.gz", False),
        ("fr/.atom.xml.abc.tmp", False),
        (".git/config", False),
        ("fr//atom.xml", False),
        ("fr/./atom.xml", False),
        ("../secret", False),
        ("/etc/passwd", False),
        ("", False),
    ],
)
def test_what_may_be_served(relpath: str, ok: bool) -> None:
    assert servable(relpath) is ok


def test_a_watched_folder_drops_what_other_processes_change(tmp_path: Path) -> None:
    root = tmp_path / "feeds"
    ours, theirs = LocalFolderWriter(root), LocalFolderWriter(root)  # theirs: another process's writer
    theirs.write("fr/atom.xml", b"<feed>1</feed>")
    theirs.write("fr/archive/1/atom.xml", b"<feed>a</feed>")
    cache = FileCache(ours, lambda rel: "public, max-age=60", revalidate_after=60.0)
    watcher = FolderWatcher(root, cache, fallback=2.0)
    watcher.start()
    try:
        early = cache.get("fr/atom.xml")  # read before the watch is set up: checked again once it is
        assert watcher.ready.wait(60)
        assert early is not None and not cache.cached("fr/atom.xml")[0]
        assert cache.get("fr/atom.xml") is early  # unchanged: the stat says so, nothing is rebuilt
        assert cache.get("fr/archive/1/atom.xml") is not None
        assert cache.revalidate_after == 60.0  # watching works here: no fallback to serve.refresh
        theirs.write("fr/atom.xml", b"<feed>2</feed>")
        _wait(lambda: not cache.cached("fr/atom.xml")[0], "the change was never noticed")
        assert cache.get("fr/atom.xml").variants["identity"].body == b"<feed>2</feed>"  # type: ignore[union-attr]
        assert theirs.delete("fr/archive/1/atom.xml")  # its folder goes too
        _wait(lambda: not cache.cached("fr/archive/1/atom.xml")[0], "the removal was never noticed")
        assert cache.get("fr/archive/1/atom.xml") is None
        assert cache.get("fr/.atom.xml.x.tmp") is None
    finally:
        watcher.stop()


def test_a_folder_that_cannot_be_watched_is_revalidated_instead(tmp_path: Path) -> None:
    blocker = tmp_path / "feeds"
    blocker.write_text("a file where the feeds folder should be")
    cache = FileCache(LocalFolderWriter(blocker), lambda rel: "public, max-age=60")
    watcher = FolderWatcher(blocker, cache, fallback=2.0)
    watcher.start()
    assert watcher.ready.wait(60)
    watcher.stop()
    assert cache.revalidate_after == 2.0


def test_entry_sizes_count_every_body() -> None:
    source = MemoryFeedWriter()
    source.write("fr/atom.xml", _text(4, 5000))
    cache = _cache(source)
    entry = cache.get("fr/atom.xml")
    assert entry is not None
    assert entry.size == ENTRY_OVERHEAD + sum(len(v.body) for v in entry.variants.values()) == cache.bytes


def test_concurrent_misses_and_invalidations_keep_the_accounting(tmp_path: Path) -> None:
    source = MemoryFeedWriter()
    for i in range(50):
        source.write(f"en/{i}.html", _text(i, 3000))
    cache = _cache(source, max_bytes=MB)

    def reader(offset: int) -> None:
        for n in range(400):
            cache.get(f"en/{(n + offset) % 50}.html")

    def writer() -> None:
        for n in range(200):
            source.write(f"en/{n % 50}.html", _text(n + 1000, 3000))

    threads = [threading.Thread(target=reader, args=(k,)) for k in range(4)] + [
        threading.Thread(target=writer)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert cache.bytes == sum(slot.size for slot in cache._slots.values()) <= MB
    for i in range(50):  # whatever the interleaving, what is served now is what the writer holds now
        entry = cache.get(f"en/{i}.html")
        if entry is not None and cache.cached(f"en/{i}.html")[0]:
            assert entry.variants["identity"].body == source.files[f"en/{i}.html"]


def test_concurrent_misses_of_one_file_read_it_once() -> None:
    source = MemoryFeedWriter()
    source.write("fr/atom.xml", _text(5, 20_000))
    release = threading.Event()
    reads: list[str] = []

    class Slow:
        listeners = source.listeners

        def load(self, relpath: str, known: str = "") -> Stored | Unchanged | None:
            reads.append(relpath)
            release.wait(60)  # every other request arrives while this read is under way
            return source.load(relpath, known)

    cache = _cache(Slow())
    got: list[object] = []
    threads = [threading.Thread(target=lambda: got.append(cache.get("fr/atom.xml"))) for _ in range(8)]
    for t in threads:
        t.start()
    _wait(lambda: len(reads) == 1, "the first read started")
    release.set()
    for t in threads:
        t.join(timeout=60)
    assert reads == ["fr/atom.xml"] and len(got) == 8 and all(g is got[0] for g in got)


def test_a_removed_folder_drops_what_is_under_it_and_nothing_else() -> None:
    source = MemoryFeedWriter()
    for rel in ("fr/archive/1/atom.xml", "fr/archive/10/atom.xml", "fr/archive/1.html", "fr/atom.xml"):
        source.write(rel, b"<feed/>")
    cache = _cache(source)
    for rel in source.files:
        cache.get(rel)
    cache.invalidate(["fr/archive/1"])  # a writer's notice names files only: nothing else goes
    assert len(cache) == 4
    cache.invalidate(["fr/archive/1"], folders=True)  # a file-system event for the folder
    held = sorted(rel for rel in source.files if cache.cached(rel)[0])
    assert held == ["fr/archive/1.html", "fr/archive/10/atom.xml", "fr/atom.xml"]
