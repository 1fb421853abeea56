"""Gzip copies beside published files (name.gz), for web servers that send them as they are (gzip_static).

Written while publishing, through the same writer as the files they copy; serving only reads them.
"""

from __future__ import annotations

import gzip

from syndicator.publish.writer import FeedWriter

MIN_SIZE = 256  # smaller files are not worth a second file


def gzip_bytes(data: bytes) -> bytes:
    """Deterministic gzip (mtime 0): the same input always gives the same bytes, so rewrites are skipped."""
    return gzip.compress(data, compresslevel=9, mtime=0)


def write_gzip_copy(writer: FeedWriter, relpath: str, data: bytes) -> bool:
    """Write relpath + ".gz" through the writer (skipped when unchanged); return True if written."""
    if len(data) < MIN_SIZE:
        return False
    return writer.write(relpath + ".gz", gzip_bytes(data))
