"""Gzip copies beside published files (name.gz), for web servers that send them as they are (gzip_static).

Written while publishing, through the same writer as the files they copy; serving only reads them.
"""

from __future__ import annotations

import gzip
import zlib

from syndicator.publish.writer import FeedWriter

MIN_SIZE = 256  # smaller files are not worth a second file


def gzip_bytes(data: bytes) -> bytes:
    """Deterministic gzip (mtime 0): the same input always gives the same bytes, so rewrites are skipped."""
    return gzip.compress(data, compresslevel=9, mtime=0)


def gzip_holds(copy: bytes, data: bytes) -> bool:
    """Whether a gzip copy decompresses to exactly data."""
    try:
        return gzip.decompress(copy) == data
    except (OSError, EOFError, zlib.error):
        return False


def write_gzip_copy(writer: FeedWriter, relpath: str, data: bytes) -> bool:
    """Make relpath + ".gz" hold data compressed; return True if it was written.

    Called for every file published, changed or not: a copy that does not decompress to the file's bytes
    (a crash between writing the file and its copy) is rewritten. Decompressing is cheap; compressing each
    unchanged file again would not be."""
    if len(data) < MIN_SIZE:
        return False
    copy = writer.read(relpath + ".gz")
    if copy is not None and gzip_holds(copy, data):
        return False
    return writer.write(relpath + ".gz", gzip_bytes(data))


def delete_with_copies(writer: FeedWriter, relpath: str) -> bool:
    """Delete relpath and its gzip copy (made now or when gzip_files was on); return True if relpath was there."""
    deleted = writer.delete(relpath)
    writer.delete(relpath + ".gz")
    return deleted
