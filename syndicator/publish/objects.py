"""The feed writer on object storage: publish.target = "s3://bucket/prefix" (S3, MinIO, Ceph…).

Each file becomes the object <prefix>/<relpath> with the headers a reader must get, the same the built-in
server and the nginx block send (publish/media.py): Content-Type, Cache-Control (serve.max_age, archive
pages serve.archive_max_age), and for a precompressed copy <relpath>.gz (serve.gzip_files) the Content-Type
of the file it copies with Content-Encoding: gzip, so a proxy or CDN can hand it to clients that accept gzip
(docs/scale-out.md). The requests themselves are syndicator/objectstore.py's.

Unchanged files are not rewritten: every object carries, as metadata, a SHA-256 of its bytes and headers;
a write first asks for it with one HEAD (no body), and PUTs only when it differs. A HEAD per file rather
than a manifest or a listing kept in memory because several processes may publish into one bucket (Celery
workers, each publishing its languages): what the bucket says now is the only thing they all agree on. A
settings change that alters headers (serve.max_age) changes the hash too, so the next publish rewrites.
"""

from __future__ import annotations

import contextlib
import errno
import gzip
import hashlib
import logging
import zlib
from dataclasses import dataclass

from syndicator import faults
from syndicator.config import Config
from syndicator.objectstore import NOT_MODIFIED, ObjectBody, ObjectStore, ObjectStoreError, S3Options
from syndicator.publish.media import GZIP_SUFFIX, cache_control, media_type
from syndicator.publish.writer import (
    UNCHANGED,
    Listener,
    Stored,
    Unchanged,
    normalize_relpath,
    split_target,
    tell,
)

log = logging.getLogger(__name__)

DIGEST = "syndicator-sha256"  # x-amz-meta-syndicator-sha256: what the object holds, headers included
# On a .gz copy: SHA-256 of the bytes it decompresses to, so a copy is checked against its file with one HEAD.
SOURCE = "syndicator-source-sha256"


@dataclass(frozen=True)
class ObjectHeaders:
    """The HTTP headers stored with one object."""

    content_type: str
    cache_control: str
    content_encoding: str = ""

    def digest(self, data: bytes) -> str:
        """SHA-256 over the headers and the bytes: equal means the stored object needs no rewrite."""
        h = hashlib.sha256()
        h.update(f"{self.content_type}\n{self.cache_control}\n{self.content_encoding}\n".encode())
        h.update(data)
        return h.hexdigest()


class ObjectWriter:
    """Feed files as objects under one bucket prefix: written whole, with their headers, only when changed."""

    def __init__(self, store: ObjectStore, prefix: str, *, max_age: int, archive_max_age: int) -> None:
        self.store = store
        self.prefix = prefix.strip("/")
        self.max_age = max_age
        self.archive_max_age = archive_max_age
        self.listeners: list[Listener] = []

    def __repr__(self) -> str:
        return f"ObjectWriter({self.store.url(self.prefix)!r})"

    def key(self, relpath: str) -> str:
        """The object key of a relpath; ValueError for a path that is not a plain relative one."""
        rel = normalize_relpath(relpath)
        return f"{self.prefix}/{rel}" if self.prefix else rel

    def headers(self, relpath: str) -> ObjectHeaders:
        """The headers an object is stored with (a .gz copy: its original's type, Content-Encoding: gzip)."""
        return ObjectHeaders(
            content_type=media_type(relpath),
            cache_control=cache_control(relpath, self.max_age, self.archive_max_age),
            content_encoding="gzip" if relpath.endswith(GZIP_SUFFIX) else "",
        )

    def write(self, relpath: str, data: bytes) -> bool:
        """PUT data at relpath's key unless the object already holds these bytes and headers (one HEAD)."""
        key = self.key(relpath)
        data = bytes(data)
        headers = self.headers(relpath)
        digest = headers.digest(data)
        stored = self.store.head(key)
        if stored is not None and stored.metadata.get(DIGEST) == digest:
            log.debug("unchanged, not rewritten: %s", self.store.url(key))
            return False
        metadata = {DIGEST: digest}
        # Not a gzip stream after all: stored as given, and never taken for a good copy.
        with contextlib.suppress(OSError, EOFError, zlib.error):
            if headers.content_encoding == "gzip":
                metadata[SOURCE] = hashlib.sha256(gzip.decompress(data)).hexdigest()
        # A PUT replaces an object whole, or not at all: the fault points sit around it, as around a rename.
        fault = faults.point(faults.WRITE, normalize_relpath(relpath))
        fault.fail(lambda: ObjectStoreError(errno.ENOSPC, "injected failure", self.store.url(key)))
        fault.kill_before()
        self.store.put(
            key,
            data,
            content_type=headers.content_type,
            cache_control=headers.cache_control,
            content_encoding=headers.content_encoding,
            metadata=metadata,
        )
        fault.kill_after()
        log.debug("wrote %s (%d bytes)", self.store.url(key), len(data))
        tell(self.listeners, normalize_relpath(relpath))
        return True

    def gzip_copy_holds(self, relpath: str, data: bytes) -> bool:
        """Whether relpath.gz holds data compressed: one HEAD, comparing the hash stored with the copy."""
        stored = self.store.head(self.key(relpath + GZIP_SUFFIX))
        return stored is not None and stored.metadata.get(SOURCE) == hashlib.sha256(data).hexdigest()

    def read(self, relpath: str) -> bytes | None:
        """The object's bytes, or None if there is none."""
        got = self.store.get(self.key(relpath))
        return got.data if isinstance(got, ObjectBody) else None

    def list(self, prefix: str = "") -> list[str]:
        """The sorted relpaths under the prefix that start with prefix (one request per 1,000 objects)."""
        base = f"{self.prefix}/" if self.prefix else ""
        return sorted(info.key[len(base) :] for info in self.store.list(base + prefix))

    def delete(self, relpath: str) -> bool:
        """Remove the object; False if there was none (a HEAD first: S3 answers a DELETE the same either way)."""
        key = self.key(relpath)
        if self.store.head(key) is None:
            return False
        fault = faults.point(faults.DELETE, normalize_relpath(relpath))
        fault.fail(lambda: ObjectStoreError(errno.ENOSPC, "injected failure", self.store.url(key)))
        fault.kill_before()
        self.store.delete(key)
        fault.kill_after()
        log.debug("removed %s", self.store.url(key))
        tell(self.listeners, normalize_relpath(relpath))
        return True

    def load(self, relpath: str, known: str = "") -> Stored | Unchanged | None:
        """For the built-in server: one GET, conditional on the ETag it holds (`known`)."""
        try:
            key = self.key(relpath)
        except ValueError:
            return None
        got = self.store.get(key, if_none_match=known)
        if got is NOT_MODIFIED:
            return UNCHANGED
        if not isinstance(got, ObjectBody):
            return None
        return Stored(got.data, got.info.modified, got.info.etag)


def object_writer(config: Config) -> ObjectWriter:
    """The writer for config's s3:// publish.target."""
    bucket, prefix = split_target(config.publish.target)
    publish = config.publish
    store = ObjectStore(
        S3Options(
            bucket=bucket,
            endpoint=publish.s3_endpoint,
            region=publish.s3_region,
            timeout=publish.s3_timeout.total_seconds(),
            retries=publish.s3_retries,
        )
    )
    return ObjectWriter(
        store,
        prefix,
        max_age=int(config.serve.max_age.total_seconds()),
        archive_max_age=int(config.serve.archive_max_age.total_seconds()),
    )
