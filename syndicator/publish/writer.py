"""The only place feed files are written: a FeedWriter seam with a local-folder, an object-storage
(publish/objects.py) and an in-memory writer, chosen by publish.target.

Relative paths are POSIX-style ("fr/rss.xml") whatever the platform, so that an object-storage
writer can use them as keys unchanged. Errors are the OSError subclasses the OS raised, re-raised
with the target path in the message (the temp file's random name would tell nobody anything).

Every writer is also what the built-in server reads from (`load`: the bytes with a version that changes
whenever they may have, so a cached copy is re-read only when needed) and tells `listeners` which paths a
write or delete changed, so a server in the same process drops exactly those from its cache.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import re
import stat
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Protocol, runtime_checkable
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from syndicator.config import Config

from syndicator import faults

log = logging.getLogger(__name__)

# Mode for new files: mkstemp creates 0600, which a web server running as another user
# could not read. An existing file keeps its own mode.
DEFAULT_FILE_MODE = 0o644

_TMP_SUFFIX = ".tmp"
# mkstemp(prefix=".<name>.", suffix=".tmp") names; list() hides leftovers of a crash.
_TMP_NAME = re.compile(r"^\..+\.[A-Za-z0-9_]+\.tmp\Z")


@runtime_checkable
class FeedWriter(Protocol):
    """Where published feed files go: a local folder now, object storage later."""

    def write(self, relpath: str, data: bytes) -> bool:
        """Write data at relpath; return True if written, False if the bytes were already there."""
        ...

    def read(self, relpath: str) -> bytes | None:
        """Return the bytes at relpath, or None if there is nothing."""
        ...

    def list(self, prefix: str = "") -> list[str]:
        """Return the sorted relpaths that start with prefix."""
        ...

    def delete(self, relpath: str) -> bool:
        """Remove the file at relpath for good; return False if there was none (deleting twice is fine).

        Used when something leaves public view (a restricted article's pages): once it returns, no later
        read or listing may show the file, also after a crash.
        """
        ...


@dataclass(frozen=True)
class Stored:
    """A published file as read for serving: its bytes, when it last changed and a version tag."""

    data: bytes
    modified: float  # seconds since the epoch (Last-Modified)
    version: str  # changes whenever the bytes may have: (size, mtime, inode) of a file, an object's ETag


class Unchanged:
    """What `load` answers when the file is still at the version the caller already holds."""

    def __repr__(self) -> str:
        return "UNCHANGED"


UNCHANGED = Unchanged()
Listener = Callable[[str], None]  # told the relpath a write or delete changed


@runtime_checkable
class FeedSource(Protocol):
    """What the built-in server reads published files through (every writer is one)."""

    listeners: list[Listener]

    def load(self, relpath: str, known: str = "") -> Stored | Unchanged | None:
        """The file at relpath (None if there is none or it is not a regular file), or UNCHANGED when its
        version is still `known`: then the bytes are not read at all."""
        ...


def tell(listeners: list[Listener], relpath: str) -> None:
    """Tell every listener that relpath changed; a failing listener is logged, never the writer's failure."""
    for listener in listeners:
        try:
            listener(relpath)
        except Exception as exc:  # the file is written: a listener's trouble must not undo that
            log.error("a listener of feed changes failed on %s: %s", relpath, exc)


def normalize_relpath(relpath: str) -> str:
    """Return relpath in canonical POSIX form; ValueError if it is empty, absolute or escapes the root."""
    if not isinstance(relpath, str) or not relpath:
        raise ValueError(f"feed path must be a non-empty string: {relpath!r}")
    # Backslashes and NULs would mean different things on different writers and platforms.
    if "\\" in relpath or "\x00" in relpath:
        raise ValueError(f"feed path must use '/' and no NUL: {relpath!r}")
    path = PurePosixPath(relpath)
    if path.is_absolute():
        raise ValueError(f"feed path must be relative: {relpath!r}")
    if ".." in path.parts:
        raise ValueError(f"feed path must not contain '..': {relpath!r}")
    parts = [p for p in path.parts if p != "."]
    if not parts:
        raise ValueError(f"feed path names no file: {relpath!r}")
    return "/".join(parts)


def _with_path(exc: OSError, path: Path) -> OSError:
    """Return an exception of the same OSError subclass whose message names path."""
    reason = exc.strerror or str(exc)
    other = exc.filename
    # Keep a different path the OS named (e.g. a parent folder), but not our temp file's name.
    if other is not None and str(other) != str(path) and not _TMP_NAME.match(Path(str(other)).name):
        reason = f"{reason} (at {other})"
    try:
        if exc.errno is not None:
            return type(exc)(exc.errno, reason, str(path))
        return type(exc)(f"{reason}: {path}")
    except Exception:  # a subclass with an unusual constructor
        return OSError(exc.errno, reason, str(path))


class LocalFolderWriter:
    """Feed files under a root folder, replaced atomically and only when their bytes change."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)
        self.listeners: list[Listener] = []

    def __repr__(self) -> str:
        return f"LocalFolderWriter({str(self.root)!r})"

    def path_for(self, relpath: str) -> Path:
        """Return the file path for relpath; ValueError if it would lie outside the root."""
        rel = normalize_relpath(relpath)
        target = self.root / rel
        # A symlink inside the root could still lead outside it.
        root = self.root.resolve()
        if not target.resolve().is_relative_to(root):
            raise ValueError(f"feed path leaves {root}: {relpath!r}")
        return target

    def write(self, relpath: str, data: bytes) -> bool:
        """Write data atomically (temp file, fsync, os.replace); return False if the bytes are unchanged."""
        target = self.path_for(relpath)
        data = bytes(data)
        try:
            written = self._write(target, data)
        except OSError as exc:
            raise _with_path(exc, target) from exc
        if written:
            tell(self.listeners, normalize_relpath(relpath))
        return written

    def _write(self, target: Path, data: bytes) -> bool:
        try:
            st = target.stat()
        except FileNotFoundError:
            st = None
        if st is not None:
            if not stat.S_ISREG(st.st_mode):
                raise IsADirectoryError(errno.EISDIR, "not a regular file", str(target))
            # Skipping identical bytes keeps mtimes (and HTTP caches, ETags) stable.
            if st.st_size == len(data) and target.read_bytes() == data:
                log.debug("unchanged, not rewritten: %s", target)
                return False
        mode = stat.S_IMODE(st.st_mode) if st is not None else DEFAULT_FILE_MODE

        fault = faults.point(faults.WRITE, self._relpath(target))
        parent = target.parent
        parent.mkdir(parents=True, exist_ok=True)
        # Same folder as the target, so os.replace is a rename within one file system.
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=_TMP_SUFFIX, dir=parent)
        try:
            with os.fdopen(fd, "wb") as fh:
                fault.fail(lambda: OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), tmp_name))
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.chmod(tmp_name, mode)
            fault.kill_before()  # the whole new file is in its temp file; the target is the old one
            os.replace(tmp_name, target)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp_name)
            raise
        _fsync_dir(parent)
        fault.kill_after()
        log.debug("wrote %s (%d bytes)", target, len(data))
        return True

    def delete(self, relpath: str) -> bool:
        """Unlink the file (atomic), fsync its folder so the removal survives a crash, and remove the folders
        it leaves empty; return False if there was none."""
        target = self.path_for(relpath)
        if target.is_dir() and not target.is_symlink():
            raise IsADirectoryError(errno.EISDIR, "not a regular file", str(target))
        if not (target.is_file() or target.is_symlink()):
            return False
        fault = faults.point(faults.DELETE, self._relpath(target))
        fault.kill_before()
        try:
            fault.fail(lambda: OSError(errno.EIO, os.strerror(errno.EIO), str(target)))
            target.unlink()
        except (FileNotFoundError, NotADirectoryError):
            return False
        except OSError as exc:
            raise _with_path(exc, target) from exc
        _fsync_dir(target.parent)
        # Folders emptied by the removal go too (an archive page's folder), never the root.
        folder = target.parent
        while folder != self.root and folder.is_relative_to(self.root):
            try:
                folder.rmdir()
            except OSError:
                break  # not empty (or not ours to remove): stop climbing
            folder = folder.parent
        fault.kill_after()
        log.debug("removed %s", target)
        tell(self.listeners, normalize_relpath(relpath))
        return True

    def _relpath(self, target: Path) -> str:
        return target.relative_to(self.root).as_posix()

    def load(self, relpath: str, known: str = "") -> Stored | Unchanged | None:
        """The file's bytes, mtime and (size, mtime, inode) version; None for anything but a regular file
        inside the root (a symlink leading out of it included)."""
        try:
            target = self.path_for(relpath)
        except ValueError:
            return None
        try:
            # O_NOFOLLOW is not needed: path_for resolved every link, and only ones inside the root remain.
            fd = os.open(target, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
        except OSError:  # absent, a folder on some systems, unreadable: not servable
            return None
        with os.fdopen(fd, "rb") as fh:
            st = os.fstat(fd)  # of the file opened, so the version and the bytes belong together
            if not stat.S_ISREG(st.st_mode):
                return None
            version = f"{st.st_size:x}-{st.st_mtime_ns:x}-{st.st_ino:x}"
            if known and version == known:
                return UNCHANGED
            try:
                data = fh.read()
            except OSError as exc:
                log.debug("cannot read %s: %s", target, exc)
                return None
        return Stored(data, st.st_mtime, version)

    def remove_leftovers(self) -> int:
        """Delete temp files a killed writer left behind (call at start-up, before any write); return how many."""
        removed = 0
        if not self.root.is_dir():
            return removed
        for dirpath, _dirnames, filenames in os.walk(self.root):
            for name in filenames:
                if _TMP_NAME.match(name):
                    with contextlib.suppress(OSError):
                        os.unlink(os.path.join(dirpath, name))
                        removed += 1
        return removed

    def read(self, relpath: str) -> bytes | None:
        """Return the file's bytes, or None if it does not exist."""
        target = self.path_for(relpath)
        try:
            return target.read_bytes()
        except (FileNotFoundError, NotADirectoryError):
            return None
        except OSError as exc:
            raise _with_path(exc, target) from exc

    def list(self, prefix: str = "") -> list[str]:
        """Return the sorted relpaths of the files under the root that start with prefix."""
        found: list[str] = []
        # Walk only the deepest folder the prefix names: "fr/archive/" must not visit every entry page.
        folder, _, _ = prefix.rpartition("/")
        top = self.root / normalize_relpath(folder) if folder else self.root
        if not top.is_dir():
            return found
        for dirpath, dirnames, filenames in os.walk(top):
            dirnames.sort()
            base = Path(dirpath).relative_to(self.root)
            for name in filenames:
                if _TMP_NAME.match(name):
                    continue
                rel = (base / name).as_posix()
                if rel.startswith(prefix):
                    found.append(rel)
        return sorted(found)


def _fsync_dir(folder: Path) -> None:
    """Flush a folder's entries so a rename survives a crash (best effort: not every OS allows it)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError as exc:
        log.debug("cannot fsync folder %s: %s", folder, exc)
    finally:
        os.close(fd)


class MemoryFeedWriter:
    """Test double: a dict of relpath -> bytes with the same path rules and unchanged-write semantics."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.writes = 0  # writes that changed something
        self.listeners: list[Listener] = []
        self._modified: dict[str, tuple[float, int]] = {}  # relpath -> (time written, write number)

    def write(self, relpath: str, data: bytes) -> bool:
        """Store data; return False if the same bytes are already there."""
        rel = normalize_relpath(relpath)
        data = bytes(data)
        if self.files.get(rel) == data:
            return False
        self.files[rel] = data
        self.writes += 1
        self._modified[rel] = (time.time(), self.writes)
        tell(self.listeners, rel)
        return True

    def read(self, relpath: str) -> bytes | None:
        """Return the stored bytes, or None."""
        return self.files.get(normalize_relpath(relpath))

    def list(self, prefix: str = "") -> list[str]:
        """Return the sorted relpaths that start with prefix."""
        return sorted(rel for rel in self.files if rel.startswith(prefix))

    def delete(self, relpath: str) -> bool:
        """Remove relpath; return False if there was nothing."""
        rel = normalize_relpath(relpath)
        if self.files.pop(rel, None) is None:
            return False
        self._modified.pop(rel, None)
        tell(self.listeners, rel)
        return True

    def load(self, relpath: str, known: str = "") -> Stored | Unchanged | None:
        """The stored bytes, versioned by the write that stored them."""
        try:
            rel = normalize_relpath(relpath)
        except ValueError:
            return None
        data = self.files.get(rel)
        if data is None:
            return None
        modified, number = self._modified[rel]
        version = str(number)
        return UNCHANGED if known == version else Stored(data, modified, version)


def _folder_writer(config: Config) -> FeedWriter:
    return LocalFolderWriter(config.publish.feeds_dir)


def _object_writer(config: Config) -> FeedWriter:
    from syndicator.publish.objects import object_writer  # boto3 is imported only when S3 is used

    return object_writer(config)


# publish.target's scheme -> the writer it means ("folder": publish.feeds_dir).
WRITERS: dict[str, Callable[[Config], FeedWriter]] = {"folder": _folder_writer, "s3": _object_writer}


def target_kind(target: str) -> str:
    """The WRITERS key of a publish.target value: "folder" or a URL's scheme."""
    return target.partition("://")[0] if "://" in target else target


def split_target(target: str) -> tuple[str, str]:
    """("bucket", "prefix") of an s3://bucket/prefix target (config validation normalized it)."""
    parts = urlsplit(target)
    return parts.netloc, parts.path.strip("/")


def writer_settings(config: Config) -> tuple[object, ...]:
    """Every setting a writer is built from: a reload that changes none of them keeps the writer."""
    publish, serve = config.publish, config.serve
    return (
        publish.target, publish.feeds_dir, publish.s3_endpoint, publish.s3_region, publish.s3_timeout,
        publish.s3_retries, serve.max_age, serve.archive_max_age,
    )  # fmt: skip


def make_writer(config: Config) -> FeedWriter:
    """The writer publish.target names; ValueError for an unknown kind (config validation stops it first)."""
    kind = target_kind(config.publish.target)
    try:
        factory = WRITERS[kind]
    except KeyError:
        raise ValueError(
            f"unknown publish.target {config.publish.target!r}; known: {', '.join(sorted(WRITERS))}"
        ) from None
    return factory(config)


def write_feeds(writer: FeedWriter, folder: str, files: Mapping[str, bytes]) -> list[str]:
    """Write files (name -> bytes, e.g. from build_all) under folder; return the relpaths that changed."""
    changed: list[str] = []
    for name in sorted(files):
        relpath = normalize_relpath(f"{folder}/{name}" if folder else name)
        if writer.write(relpath, files[name]):
            changed.append(relpath)
    return changed
