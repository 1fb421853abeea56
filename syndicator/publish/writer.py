"""The only place feed files are written: a FeedWriter seam with a local-folder and an in-memory writer.

Relative paths are POSIX-style ("fr/rss.xml") whatever the platform, so that an object-storage
writer can use them as keys unchanged. Errors are the OSError subclasses the OS raised, re-raised
with the target path in the message (the temp file's random name would tell nobody anything).
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import re
import stat
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path, PurePosixPath
from typing import Protocol, runtime_checkable

log = logging.getLogger(__name__)

# Mode for new files: mkstemp creates 0600, which a web server running as another user
# could not read. An existing file keeps its own mode.
DEFAULT_FILE_MODE = 0o644

_TMP_SUFFIX = ".tmp"
# mkstemp(prefix=".<name>.", suffix=".tmp") names; list() hides leftovers of a crash.
_TMP_NAME = re.compile(r"^\..+\.[A-Za-z0-9_]+\.tmp$")


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
            return self._write(target, data)
        except OSError as exc:
            raise _with_path(exc, target) from exc

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

        parent = target.parent
        parent.mkdir(parents=True, exist_ok=True)
        # Same folder as the target, so os.replace is a rename within one file system.
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=_TMP_SUFFIX, dir=parent)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.chmod(tmp_name, mode)
            os.replace(tmp_name, target)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp_name)
            raise
        _fsync_dir(parent)
        log.debug("wrote %s (%d bytes)", target, len(data))
        return True

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
        if not self.root.is_dir():
            return found
        for dirpath, dirnames, filenames in os.walk(self.root):
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

    def write(self, relpath: str, data: bytes) -> bool:
        """Store data; return False if the same bytes are already there."""
        rel = normalize_relpath(relpath)
        data = bytes(data)
        if self.files.get(rel) == data:
            return False
        self.files[rel] = data
        self.writes += 1
        return True

    def read(self, relpath: str) -> bytes | None:
        """Return the stored bytes, or None."""
        return self.files.get(normalize_relpath(relpath))

    def list(self, prefix: str = "") -> list[str]:
        """Return the sorted relpaths that start with prefix."""
        return sorted(rel for rel in self.files if rel.startswith(prefix))


WRITERS: dict[str, Callable[[Path], FeedWriter]] = {"folder": LocalFolderWriter}


def make_writer(kind: str, root: Path) -> FeedWriter:
    """Return a writer of a registered kind rooted at root; ValueError for an unknown kind."""
    try:
        factory = WRITERS[kind]
    except KeyError:
        raise ValueError(f"unknown feed writer {kind!r}; known: {', '.join(sorted(WRITERS))}") from None
    return factory(root)


def write_feeds(writer: FeedWriter, folder: str, files: Mapping[str, bytes]) -> list[str]:
    """Write files (name -> bytes, e.g. from build_all) under folder; return the relpaths that changed."""
    changed: list[str] = []
    for name in sorted(files):
        relpath = normalize_relpath(f"{folder}/{name}" if folder else name)
        if writer.write(relpath, files[name]):
            changed.append(relpath)
    return changed
