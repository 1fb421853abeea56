"""Reading files from folders that others write into: regular files only, bounded, links kept inside.

A drop folder is written by editors and tools we do not control. A FIFO would block a read forever, a
device such as /dev/zero never ends, a symbolic link can point anywhere on the machine, and a file can be
any size. So every file is checked before it is opened (no open of a FIFO or a device, whose open alone
may block or have effects), opened without blocking, checked again on the open descriptor (a file swapped
after the first check is caught), and read to at most its cap + 1 byte.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from syndicator.errors import BadItem
from syndicator.settings_table import MAX_FILE_BYTES, SYMLINK_POLICIES

_READ = 1 << 20
_OPEN_FLAGS = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOCTTY", 0)


class RefusedFile(BadItem):
    """A file that is not read: not a regular file, too big, or a link leading out of its folder."""


@dataclass(frozen=True)
class FileLimits:
    """What a folder accepts: the largest file, and which symbolic links are followed."""

    max_bytes: int = MAX_FILE_BYTES
    symlinks: str = "inside"  # one of SYMLINK_POLICIES
    setting: str = (
        "max_file_bytes"  # the source option that sets max_bytes, for the hint when a file is too big
    )

    def __post_init__(self) -> None:
        if self.symlinks not in SYMLINK_POLICIES:
            raise ValueError(f"symlinks must be one of {SYMLINK_POLICIES}, not {self.symlinks!r}")


@dataclass(frozen=True)
class FileData:
    """A file's bytes, and when it was last modified (from the descriptor that was read)."""

    data: bytes
    mtime: float


def _kind(mode: int) -> str:
    for test, name in (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a named pipe (FIFO)"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return name
    return "not a regular file"


def _too_big(size: int | None, limits: FileLimits) -> RefusedFile:
    what = f"is {size:,} bytes" if size is not None else "grew while it was read"
    return RefusedFile(
        f"{what}, more than the limit of {limits.max_bytes:,}; not read",
        hint=f"raise the source's {limits.setting} if such files are expected",
    )


def resolve_inside(root: Path, base: Path, written: str, limits: FileLimits) -> Path:
    """The file `written` (a relative path, as an article names its image) names from the folder `base`
    inside `root`; RefusedFile when it is absolute, leaves `root` (by '..' or through a symbolic link the
    policy does not follow) or cannot be a file name. The file itself is then read with `read_file`."""
    if not written or "\x00" in written:
        raise RefusedFile("is not a file name")
    if os.path.isabs(written):
        raise RefusedFile(
            "is an absolute path; give it relative to the article's file (e.g. images/ferry.jpg)"
        )
    top = os.path.abspath(root)
    path = os.path.normpath(os.path.join(os.path.abspath(base), written))
    if not Path(path).is_relative_to(top) or path == top:
        raise RefusedFile("lies outside the folder; not read", hint="keep images inside the drop folder")
    real = os.path.realpath(path)
    if real != os.path.join(os.path.realpath(top), os.path.relpath(path, top)):  # a link on the way
        if limits.symlinks == "never":
            raise RefusedFile(
                "goes through a symbolic link; not read", hint='set symlinks = "inside" on the source'
            )
        if limits.symlinks == "inside" and not Path(real).is_relative_to(os.path.realpath(top)):
            raise RefusedFile(
                f"is reached through a symbolic link to {real}, outside the folder; not read",
                hint='move the file into the folder, or set symlinks = "anywhere" on the source',
            )
    return Path(path)


def read_file(path: Path, root: Path, limits: FileLimits) -> FileData:
    """The bytes of `path`, a file in the folder `root`; RefusedFile saying why it is not read."""
    target = path
    if path.is_symlink():
        if limits.symlinks == "never":
            raise RefusedFile("is a symbolic link; not read", hint='set symlinks = "inside" on the source')
        if limits.symlinks == "inside":
            target = Path(os.path.realpath(path))
            if not target.is_relative_to(os.path.realpath(root)):
                raise RefusedFile(
                    f"is a symbolic link to {target}, outside the folder; not read",
                    hint='move the file into the folder, or set symlinks = "anywhere" on the source',
                )
    try:
        before = os.stat(target)
    except FileNotFoundError:
        raise RefusedFile("is a broken symbolic link or was removed; not read") from None
    if not stat.S_ISREG(before.st_mode):
        raise RefusedFile(f"is {_kind(before.st_mode)}, not a regular file; not read")
    if before.st_size > limits.max_bytes:
        raise _too_big(before.st_size, limits)
    # O_NONBLOCK: should the file have been replaced by a FIFO since the check, open returns at once.
    flags = _OPEN_FLAGS | (os.O_NOFOLLOW if limits.symlinks == "never" else 0)
    fd = os.open(path, flags)
    try:
        now = os.fstat(fd)
        if (now.st_dev, now.st_ino) != (before.st_dev, before.st_ino) or not stat.S_ISREG(now.st_mode):
            raise RefusedFile(
                "was replaced while it was being read; not read", hint="it is tried again next poll"
            )
        chunks: list[bytes] = []
        left = limits.max_bytes + 1  # one byte more than allowed tells "too big" from "exactly the cap"
        while left > 0:
            chunk = os.read(fd, min(left, _READ))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
    finally:
        os.close(fd)
    if left <= 0:
        raise _too_big(None, limits)
    return FileData(b"".join(chunks), now.st_mtime)
