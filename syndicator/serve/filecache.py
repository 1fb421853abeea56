"""The built-in server's cache of published files: bodies, compressed bodies, ETags and headers, bounded.

Nothing is read at start-up and nothing walks the published tree. A request for a file the cache does not
hold reads it through the feed writer (`FeedSource.load`: a file on disk, or an object on S3), hashes and
compresses it once and keeps it, within `serve.cache_bytes`, least recently requested out first. So memory
depends on that setting and on what readers ask for, not on how many files the archive holds.

What changed is learnt, not looked for:
- inside `syndicator run` the writer tells the cache each path it writes or deletes (in the same process);
- a feeds folder is watched (watchfiles: inotify on Linux), so publishes by other processes drop their paths;
- object storage, and a folder that cannot be watched, is asked again: an entry older than `serve.refresh`
  is revalidated on its next request by a conditional read (a stat, or a GET with If-None-Match) that
  transfers nothing when the file is unchanged.
Only regular files inside the root, with no hidden part and not a .gz copy, are ever served.
"""

from __future__ import annotations

import gzip
import hashlib
import itertools
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from email.utils import formatdate
from pathlib import Path

from syndicator.publish.media import BINARY_TYPE, GZIP_SUFFIX, compressible, media_type
from syndicator.publish.writer import UNCHANGED, FeedSource, Stored, normalize_relpath
from syndicator.serve.headers import policy_for

log = logging.getLogger(__name__)

# Compressing tiny bodies or already-compressed formats costs more than it saves.
MIN_COMPRESS = 256
ENTRY_OVERHEAD = 1024  # bytes an entry holds besides its bodies (headers, objects), for the budget
ABSENT_SIZE = 128  # what remembering a missing file costs
LARGEST_SHARE = 8  # a file bigger than 1/8 of the cache is served without being kept (nor compressed)
# A watched folder's entries are still checked (a stat) this often: should the kernel drop events (its inotify
# queue overflowing under a huge publish), nothing stays stale for long.
WATCHED_RECHECK = 60.0

try:  # brotli is a dependency; kept optional so a broken wheel only loses "br"
    import brotli as _brotli
except ImportError:  # pragma: no cover
    _brotli = None

__all__ = ["CachedFile", "FileCache", "FolderWatcher", "accepted_codings", "build_entry", "media_type"]


def wants_html(accept: str) -> bool:
    """True for a browser navigation (Accept names text/html), which cannot show a feed media type."""
    return "text/html" in accept.lower()


def accepted_codings(header: str) -> set[str]:
    """Content codings an Accept-Encoding header accepts (q > 0); "*" stands for br and gzip."""
    out: set[str] = set()
    for part in header.lower().split(","):
        coding, _, params = part.strip().partition(";")
        q = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if q > 0:
            out.update(("br", "gzip") if coding.strip() == "*" else (coding.strip(),))
    return out


def _header_lines(lines: list[tuple[str, str]]) -> list[tuple[bytes, bytes]]:
    return [(k.encode("latin-1"), v.encode("latin-1")) for k, v in lines]


@dataclass(frozen=True)
class Variant:
    """One representation of a file: the body and every response header, precomputed."""

    body: bytes
    headers: list[tuple[bytes, bytes]]
    not_modified: list[tuple[bytes, bytes]]  # the headers of a 304 for this representation
    # For browsers: the same bytes as application/xml, the type under which browsers apply feed.xsl
    # (they show application/rss+xml and application/atom+xml as raw text). None for other files.
    browser: list[tuple[bytes, bytes]] | None = None


@dataclass(frozen=True)
class CachedFile:
    """A published file as the server sends it."""

    relpath: str
    etag: str  # strong: '"<content hash>"'
    last_modified: int  # seconds since the epoch
    variants: dict[str, Variant]  # "identity", "gzip", "br"
    version: str = ""  # the source's version of the bytes (FeedSource.load), to revalidate cheaply

    @property
    def size(self) -> int:
        """Bytes it holds, for the cache budget."""
        return ENTRY_OVERHEAD + sum(len(v.body) for v in self.variants.values())

    def choose(self, accept_encoding: str) -> tuple[str, Variant]:
        """The best representation for an Accept-Encoding header: br, then gzip, then identity."""
        if accept_encoding and len(self.variants) > 1:
            accepted = accepted_codings(accept_encoding)
            for coding in ("br", "gzip"):
                if coding in self.variants and coding in accepted:
                    return coding, self.variants[coding]
        return "identity", self.variants["identity"]

    def matches(self, if_none_match: str) -> bool:
        """RFC 9110 weak comparison against any representation's tag, or '*'."""
        tag = self.etag.strip('"')
        for item in if_none_match.split(","):
            item = item.strip()
            if item == "*":
                return True
            item = item.removeprefix("W/").strip('"')
            # "<hash>-gzip" / "<hash>-br" name the same content in another coding.
            if item.split("-", 1)[0] == tag:
                return True
        return False


def build_entry(
    relpath: str,
    data: bytes,
    mtime: float,
    cache_control: str,
    *,
    use_brotli: bool = True,
    vary: str = "Accept-Encoding",
    version: str = "",
    compress: bool = True,
) -> CachedFile:
    """Hash and compress one file's bytes and precompute its headers."""
    digest = hashlib.blake2b(data, digest_size=16).hexdigest()
    etag = f'"{digest}"'
    last_modified = int(mtime)
    lm = formatdate(last_modified, usegmt=True)
    ctype = media_type(relpath)
    styled = ctype.startswith(("application/rss+xml", "application/atom+xml"))
    if styled:
        vary = f"{vary}, Accept"  # browsers get application/xml, feed readers the feed type
    common = [("last-modified", lm), ("cache-control", cache_control), ("vary", vary)]
    policy = policy_for(ctype)
    if policy:  # pages and the feeds browsers style (X-Content-Type-Options is on every response: server.py)
        common.append(("content-security-policy", policy))
    bodies = {"identity": data}
    if compress and len(data) >= MIN_COMPRESS and ctype != BINARY_TYPE and compressible(relpath):
        # mtime=0 keeps the gzip bytes a function of the content alone.
        gz = gzip.compress(data, compresslevel=9, mtime=0)
        if len(gz) < len(data):
            bodies["gzip"] = gz
        if use_brotli and _brotli is not None:
            br = _brotli.compress(data, quality=9)
            if len(br) < len(data):
                bodies["br"] = br
    variants = {}
    for coding, body in bodies.items():
        tag = etag if coding == "identity" else f'"{digest}-{coding}"'
        lines = [("content-type", ctype), ("content-length", str(len(body))), ("etag", tag), *common]
        if coding != "identity":
            lines.append(("content-encoding", coding))
        browser = [("content-type", "application/xml; charset=utf-8"), *lines[1:]] if styled else None
        variants[coding] = Variant(
            body,
            _header_lines(lines),
            _header_lines([("etag", tag), *common]),
            _header_lines(browser) if browser is not None else None,
        )
    return CachedFile(relpath, etag, last_modified, variants, version)


def _ancestors(relpath: str) -> Iterator[str]:
    """ "a/b/c.xml" -> "a/b", "a"."""
    while "/" in relpath:
        relpath = relpath.rpartition("/")[0]
        yield relpath


def servable(relpath: str) -> bool:
    """Whether a URL's relative path may name a published file at all: plain, no hidden part (the writer's temp
    files), not a .gz copy (those are for nginx and CDNs, not URLs of their own)."""
    try:
        if normalize_relpath(relpath) != relpath:
            return False
    except ValueError:
        return False
    return not relpath.endswith(GZIP_SUFFIX) and not any(part.startswith(".") for part in relpath.split("/"))


@dataclass
class _Slot:
    """A cache entry: the file (None: known to be missing) and when the source last vouched for it."""

    file: CachedFile | None
    checked: float  # time.monotonic(); -inf: revalidate at the next request
    size: int


class FileCache:
    """Published files read on demand through a FeedSource, kept within a byte budget (LRU)."""

    def __init__(
        self,
        source: FeedSource,
        cache_control: Callable[[str], str],
        *,
        use_brotli: bool = True,
        max_bytes: int = 64 * 1024 * 1024,
        revalidate_after: float | None = None,
        remember_missing: bool = False,
    ) -> None:
        self.source = source
        self.cache_control = cache_control
        self.use_brotli = use_brotli
        self.max_bytes = max_bytes
        # Seconds an entry is trusted before its next request checks it with the source; None: until told.
        self.revalidate_after = revalidate_after
        # Whether "no such file" is kept too (a bucket: a GET each time would cost; a folder: a stat would not).
        self.remember_missing = remember_missing
        self.listeners: list[Callable[[list[str]], None]] = []
        self._slots: OrderedDict[str, _Slot] = OrderedDict()
        self._lock = threading.Lock()
        self._stripes = [threading.Lock() for _ in range(64)]
        self._epoch = 0  # bumped by every invalidation: a load that raced one is revalidated next time
        self.bytes = 0
        self.loads = 0  # reads through the source (misses and revalidations)

    def __len__(self) -> int:
        return len(self._slots)

    def cached(self, relpath: str) -> tuple[bool, CachedFile | None]:
        """What memory alone says (the event loop calls this): (True, the file or None if known missing), or
        (False, None) when it must be read (call `get` off the loop)."""
        with self._lock:
            slot = self._slots.get(relpath)
            if slot is None or self._stale(slot):
                return False, None
            self._slots.move_to_end(relpath)
            return True, slot.file

    def get(self, relpath: str) -> CachedFile | None:
        """The file at relpath, read through the source when needed (blocking: call off the event loop)."""
        if not servable(relpath):
            return None
        found, entry = self.cached(relpath)
        if found:
            return entry
        # Concurrent misses of one file wait for a single read (and compression) instead of each doing it.
        with self._stripes[hash(relpath) % len(self._stripes)]:
            return self._load(relpath)

    def _load(self, relpath: str) -> CachedFile | None:
        with self._lock:
            slot = self._slots.get(relpath)
            if slot is not None and not self._stale(slot):
                self._slots.move_to_end(relpath)
                return slot.file
            epoch = self._epoch
        known = slot.file.version if slot is not None and slot.file is not None else ""
        loaded = self.source.load(relpath, known)
        self.loads += 1
        if loaded is UNCHANGED and slot is not None:
            entry = slot.file
        elif isinstance(loaded, Stored):
            fits = self._fits(len(loaded.data))
            entry = build_entry(
                relpath, loaded.data, loaded.modified, self.cache_control(relpath),
                use_brotli=self.use_brotli, version=loaded.version, compress=fits,
            )  # fmt: skip
            if not fits:
                self._drop(relpath)
                return entry  # served this once, not kept
        else:
            entry = None
        if entry is None and not self.remember_missing:
            self._drop(relpath)  # a missing file on a watched folder costs a stat: not worth remembering
            return None
        with self._lock:
            # Invalidated while it was read: keep it, but ask the source again at the next request.
            checked = time.monotonic() if self._epoch == epoch else float("-inf")
            self._put(relpath, _Slot(entry, checked, entry.size if entry is not None else ABSENT_SIZE))
        return entry

    def invalidate(self, relpaths: Iterable[str], *, folders: bool = False) -> list[str]:
        """Forget these paths; with `folders` (file-system events, where a removed folder is one event) also
        anything under them. Tell the listeners; return the paths."""
        changed = list(relpaths)
        if not changed:
            return changed
        with self._lock:
            self._epoch += 1
            for rel in changed:
                self._remove(rel)
            if folders:
                # One pass over what is held, each key's few ancestors looked up: never paths x entries.
                gone = {rel.rstrip("/") for rel in changed}
                for key in [k for k in self._slots if any(a in gone for a in _ancestors(k))]:
                    self._remove(key)
        for listener in self.listeners:
            listener(changed)
        return changed

    def metrics(self) -> list[str]:
        """Prometheus lines: what the cache holds and how often it read through the source."""
        return [
            "# HELP syndicator_serve_cache_bytes Bytes of published files held in memory (serve.cache_bytes caps it).",
            "# TYPE syndicator_serve_cache_bytes gauge",
            f"syndicator_serve_cache_bytes {self.bytes}",
            "# HELP syndicator_serve_cache_limit_bytes serve.cache_bytes.",
            "# TYPE syndicator_serve_cache_limit_bytes gauge",
            f"syndicator_serve_cache_limit_bytes {self.max_bytes}",
            "# HELP syndicator_serve_cache_files Published files (and known-missing paths) held in memory.",
            "# TYPE syndicator_serve_cache_files gauge",
            f"syndicator_serve_cache_files {len(self._slots)}",
            "# HELP syndicator_serve_cache_loads_total Reads through the feed writer: misses and revalidations.",
            "# TYPE syndicator_serve_cache_loads_total counter",
            f"syndicator_serve_cache_loads_total {self.loads}",
        ]

    def changed(self, relpath: str) -> None:
        """A writer's listener: one path was written or deleted."""
        self.invalidate([relpath])

    def mark_stale(self) -> None:
        """Have every entry checked against its source at its next request (cheap: a stat or a 304)."""
        with self._lock:
            self._epoch += 1
            for slot in self._slots.values():
                slot.checked = float("-inf")

    def clear(self) -> None:
        """Forget everything (the watcher lost track of events)."""
        with self._lock:
            self._epoch += 1
            self._slots.clear()
            self.bytes = 0

    def _stale(self, slot: _Slot) -> bool:
        if slot.checked == float("-inf"):
            return True
        return self.revalidate_after is not None and time.monotonic() - slot.checked > self.revalidate_after

    def _fits(self, size: int) -> bool:
        return size * LARGEST_SHARE <= self.max_bytes

    def _put(self, relpath: str, slot: _Slot) -> None:
        self._remove(relpath)
        self._slots[relpath] = slot
        self.bytes += slot.size
        while self.bytes > self.max_bytes and self._slots:
            _, oldest = self._slots.popitem(last=False)
            self.bytes -= oldest.size

    def _remove(self, relpath: str) -> None:
        slot = self._slots.pop(relpath, None)
        if slot is not None:
            self.bytes -= slot.size

    def _drop(self, relpath: str) -> None:
        with self._lock:
            self._remove(relpath)


class FolderWatcher:
    """File-system events under a feeds folder, turned into cache invalidations (a daemon thread).

    watchfiles (Rust notify) watches every folder under the root and the new ones as they appear; events come
    in batches (a publish writes many files at once). If the watch cannot be set up (no inotify, the watch
    limit reached) the cache falls back to revalidating entries after serve.refresh.
    """

    def __init__(self, root: Path, cache: FileCache, fallback: float) -> None:
        self.root = Path(root)
        self.cache = cache
        self.fallback = fallback
        self._stop = threading.Event()
        self.ready = threading.Event()  # set once watching (or once the fallback is on)
        self._thread: threading.Thread | None = None
        self.batches = 0

    def start(self) -> None:
        """Watch in a daemon thread. Serving need not wait: what is read before the watch is set up is asked
        again once it is (`ready`)."""
        self._thread = threading.Thread(target=self._watch, name="feeds-watch", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop watching."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _watch(self) -> None:
        from watchfiles import watch

        try:
            self.root.mkdir(parents=True, exist_ok=True)  # nothing published yet: watch the empty folder
            root = self.root.resolve()
            changes = watch(
                root, watch_filter=None, debounce=400, step=20, stop_event=self._stop, rust_timeout=500,
                yield_on_timeout=True, raise_interrupt=False,
            )  # fmt: skip
            # The first yield (a batch, or empty after rust_timeout) comes once every folder is watched: from
            # then on no change is missed; whatever was read before is checked again at its next request.
            first = next(changes, None)
            if first is None:  # stopped before the watch was even set up
                return
            self.cache.mark_stale()
            self.ready.set()
            for batch in itertools.chain([first], changes):
                if batch:
                    self.batches += 1
                    self.cache.invalidate(
                        sorted(self._relpaths(root, (path for _, path in batch))), folders=True
                    )
        except Exception as exc:
            if self._stop.is_set():
                return
            self.cache.revalidate_after = self.fallback
            self.cache.clear()
            log.warning(
                "cannot watch %s for published files (%s): served files are checked every %gs instead",
                self.root, exc, self.fallback,
            )  # fmt: skip
        finally:
            self.ready.set()

    @staticmethod
    def _relpaths(root: Path, paths: Iterable[str]) -> set[str]:
        found = set()
        for path in paths:
            try:
                rel = Path(path).relative_to(root).as_posix()
            except ValueError:
                continue
            if rel != "." and not any(part.startswith(".") for part in rel.split("/")):
                found.add(rel)
        return found
