"""Gzip copies beside published files (name.gz), for web servers and proxies that send them as they are
(nginx gzip_static on a folder; the nginx block or a CDN in front of a bucket).

Written while publishing, through the same writer as the files they copy; serving only reads them. A copy is
checked against the file's bytes at every publish, changed or not, so a crash between writing a file and its
copy is mended by the next publish; each writer answers that check its cheapest way (`gzip_copy_holds`: a
bucket compares a hash stored with the copy, one HEAD; a folder decompresses the copy).
"""

from __future__ import annotations

import gzip
import zlib
from typing import Protocol, runtime_checkable

from syndicator.publish.media import GZIP_SUFFIX
from syndicator.publish.writer import FeedWriter

MIN_SIZE = 256  # smaller files are not worth a second file


@runtime_checkable
class CopyChecking(Protocol):
    """A writer that can tell whether a gzip copy holds given bytes without reading the copy."""

    def gzip_copy_holds(self, relpath: str, data: bytes) -> bool:
        """Whether relpath + ".gz" exists and decompresses to exactly data."""
        ...


def gzip_bytes(data: bytes) -> bytes:
    """Deterministic gzip (mtime 0): the same input always gives the same bytes, so rewrites are skipped."""
    return gzip.compress(data, compresslevel=9, mtime=0)


def gzip_holds(copy: bytes, data: bytes) -> bool:
    """Whether a gzip copy decompresses to exactly data."""
    try:
        return gzip.decompress(copy) == data
    except (OSError, EOFError, zlib.error):
        return False


def copy_holds(writer: FeedWriter, relpath: str, data: bytes) -> bool:
    """Whether relpath's gzip copy is there and holds data (the writer's own check, or read and decompress)."""
    if isinstance(writer, CopyChecking):
        return writer.gzip_copy_holds(relpath, data)
    copy = writer.read(relpath + GZIP_SUFFIX)
    return copy is not None and gzip_holds(copy, data)


def write_gzip_copy(writer: FeedWriter, relpath: str, data: bytes, *, changed: bool = True) -> bool:
    """Make relpath + ".gz" hold data compressed; return True if it was written.

    `changed`: the file was just written. Otherwise the copy is checked first (compressing each unchanged file
    again would cost far more than the check) and only a missing or wrong one is rewritten."""
    if len(data) < MIN_SIZE:
        return False
    if not changed and copy_holds(writer, relpath, data):
        return False
    return writer.write(relpath + GZIP_SUFFIX, gzip_bytes(data))


def delete_with_copies(writer: FeedWriter, relpath: str) -> bool:
    """Delete relpath and its gzip copy (made now or when gzip_files was on); return True if relpath was there."""
    deleted = writer.delete(relpath)
    writer.delete(relpath + GZIP_SUFFIX)
    return deleted
