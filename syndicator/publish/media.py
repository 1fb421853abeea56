"""What a published file is, as HTTP says it: its media type and how long caches may keep it.

One answer for every way the files reach readers: the built-in server (serve/filecache.py), the nginx block
(serve/nginx.py) and the headers stored with each object on S3 (publish/objects.py). A file's name decides
everything here, so the three agree without looking at each other.
"""

from __future__ import annotations

import posixpath
import re

from syndicator.models import MEDIA_DIR, MEDIA_NAME_HEX

# Media types sent with charset=utf-8 (every text file Syndicator publishes is UTF-8).
MEDIA_TYPES = {
    ".xml": "application/xml",
    ".rss": "application/rss+xml",
    ".atom": "application/atom+xml",
    ".json": "application/json",
    ".opml": "text/x-opml",
    ".html": "text/html",
    ".htm": "text/html",
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
# Images Syndicator publishes (models.MediaFile: the type is decided by the bytes when they are read, and the
# extension names it). Sent without a charset, never gzipped (they are compressed already).
IMAGE_TYPES = {
    ".jpg": "image/jpeg",
    ".png": "image/png",
    ".gif": "image/gif",
    ".webp": "image/webp",
    # Not an image, but published the same way: a PDF an article's body links to (sources/bodyfiles.py).
    ".pdf": "application/pdf",
}
BINARY_TYPE = "application/octet-stream"
GZIP_SUFFIX = ".gz"  # precompressed copies beside the files (publish/precompress.py)

# RFC 5005 archive documents: <lang>/archive/<n>/<feed file>. Their entries are settled (new ones reach the
# current feed first), so caches may keep them longer than the current feed.
ARCHIVE_DOCUMENT = re.compile(r"^[^/]+/archive/\d+/(?:rss\.xml|atom\.xml|feed\.json)\Z")
# Published images: media/<hash>.<ext> (models.media_path). A name made from the bytes never changes meaning,
# so caches may keep them for a year without asking again.
MEDIA_EXTENSIONS = "|".join(ext[1:] for ext in IMAGE_TYPES)
MEDIA_FILE = re.compile(rf"^{MEDIA_DIR}/[0-9a-f]{{{MEDIA_NAME_HEX}}}\.(?:{MEDIA_EXTENSIONS})\Z")
MEDIA_MAX_AGE = 365 * 24 * 3600
MEDIA_CACHE_CONTROL = f"public, max-age={MEDIA_MAX_AGE}, immutable"


def media_type(relpath: str) -> str:
    """The Content-Type of a published file (of the file it copies, for a .gz copy), with charset for text."""
    name = posixpath.basename(relpath.removesuffix(GZIP_SUFFIX))
    image = IMAGE_TYPES.get(posixpath.splitext(name)[1].lower())
    if image and is_media_file(relpath):
        return image
    base = NAMED_TYPES.get(name) or MEDIA_TYPES.get(posixpath.splitext(name)[1].lower())
    return f"{base}; charset=utf-8" if base else BINARY_TYPE


def is_archive_document(relpath: str) -> bool:
    """Whether a relpath (or its .gz copy) is an RFC 5005 archive page."""
    return bool(ARCHIVE_DOCUMENT.match(relpath.removesuffix(GZIP_SUFFIX)))


def is_media_file(relpath: str) -> bool:
    """Whether a relpath is an image Syndicator publishes (media/<hash>.<ext>)."""
    return bool(MEDIA_FILE.match(relpath))


def compressible(relpath: str) -> bool:
    """Whether a gzip copy of the file is worth writing: not for images, which are compressed already."""
    return not is_media_file(relpath)


def cache_control(relpath: str, max_age: int, archive_max_age: int) -> str:
    """The Cache-Control of a public file: serve.max_age, serve.archive_max_age for archive pages, a year
    (immutable) for content-addressed media."""
    if is_media_file(relpath):
        return MEDIA_CACHE_CONTROL
    seconds = archive_max_age if is_archive_document(relpath) else max_age
    return f"public, max-age={seconds}"
