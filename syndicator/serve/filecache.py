"""An in-memory copy of the published files, ready to send: bytes, compressed bodies, ETags, headers.

The request path never touches the disk and never hashes: a background refresh stats each file under
feeds/ (cheap) and re-reads, hashes and compresses only the files whose (size, mtime, inode) changed.
Only regular files inside the root are ever loaded, so no request path can reach outside it.
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import logging
import os
import stat
import threading
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import formatdate
from pathlib import Path

from syndicator.serve.headers import policy_for

log = logging.getLogger(__name__)

# Media types served with charset=utf-8 (every text file Syndicator publishes is UTF-8).
MEDIA_TYPES = {
    ".xml": "application/xml",
    ".rss": "application/rss+xml",
    ".atom": "application/atom+xml",
    ".json": "application/json",
    ".opml": "text/x-opml",
    ".html": "text/html",
    ".xsl": "application/xslt+xml",
    ".xslt": "application/xslt+xml",
    ".css": "text/css",
    ".txt": "text/plain",
}
# Published feed names are more specific than their extension.
NAMED_TYPES = {
    "rss.xml": "application/rss+xml",
    "atom.xml": "application/atom+xml",
    "feed.json": "application/feed+json",
}
BINARY_TYPE = "application/octet-stream"
# Compressing tiny bodies or already-compressed formats costs more than it saves.
MIN_COMPRESS = 256

try:  # brotli is a dependency; kept optional so a broken wheel only loses "br"
    import brotli as _brotli
except ImportError:  # pragma: no cover
    _brotli = None


def media_type(relpath: str) -> str:
    """The Content-Type of a published file, with charset for text."""
    name = relpath.rsplit("/", 1)[-1]
    base = NAMED_TYPES.get(name) or MEDIA_TYPES.get(os.path.splitext(name)[1].lower())
    return f"{base}; charset=utf-8" if base else BINARY_TYPE


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
    stamp: tuple[int, int, int]  # (size, mtime_ns, inode) it was read at

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
    if len(data) >= MIN_COMPRESS and ctype != BINARY_TYPE:
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
    return CachedFile(relpath, etag, last_modified, variants, (0, 0, 0))


class FileCache:
    """Every servable file under a root, kept in memory and refreshed from the file stats."""

    def __init__(self, root: Path, cache_control: str, *, use_brotli: bool = True) -> None:
        self.root = Path(root)
        self.cache_control = cache_control
        self.use_brotli = use_brotli
        self.files: dict[str, CachedFile] = {}  # replaced whole on change: readers need no lock
        self._lock = threading.Lock()
        self.listeners: list[Callable[[list[str]], None]] = []

    def get(self, relpath: str) -> CachedFile | None:
        """The cached file at a relative path ("en/rss.xml"), or None."""
        return self.files.get(relpath)

    def refresh(self) -> list[str]:
        """Re-read what changed on disk; return the relpaths added, changed or removed."""
        with self._lock:
            old = self.files
            new: dict[str, CachedFile] = {}
            changed: list[str] = []
            for relpath, path, stamp, mtime in self._scan():
                entry = old.get(relpath)
                if entry is None or entry.stamp != stamp:
                    try:
                        data = path.read_bytes()
                    except OSError as exc:  # removed or replaced meanwhile: the next refresh sees it
                        log.debug("cannot read %s: %s", path, exc)
                        if entry is not None:
                            new[relpath] = entry
                        continue
                    built = build_entry(relpath, data, mtime, self.cache_control, use_brotli=self.use_brotli)
                    entry = dataclasses.replace(built, stamp=stamp)
                    if relpath not in old or old[relpath].etag != entry.etag:
                        changed.append(relpath)
                new[relpath] = entry
            changed += [r for r in old if r not in new]
            self.files = new
        if changed:
            log.debug("file cache: %d file(s) changed", len(changed))
            for listener in self.listeners:
                listener(changed)
        return changed

    def _scan(self) -> list[tuple[str, Path, tuple[int, int, int], float]]:
        found: list[tuple[str, Path, tuple[int, int, int], float]] = []
        root = self.root
        if not root.is_dir():
            return found
        real_root = root.resolve()
        # followlinks=False: a symlinked folder is not walked; a symlinked file is checked below.
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            base = Path(dirpath)
            for name in filenames:
                # Hidden names are the writer's temp files; .gz files are nginx's gzip_static copies.
                if name.startswith(".") or name.endswith(".gz"):
                    continue
                path = base / name
                try:
                    st = path.stat()
                    if path.is_symlink() and not path.resolve().is_relative_to(real_root):
                        continue
                except OSError:
                    continue
                if not stat.S_ISREG(st.st_mode):
                    continue
                relpath = path.relative_to(root).as_posix()
                found.append((relpath, path, (st.st_size, st.st_mtime_ns, st.st_ino), st.st_mtime))
        return found
