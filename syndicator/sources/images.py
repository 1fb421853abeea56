"""Lead images shipped with articles in a drop folder: found relative to the article's file, read with the
folder's own rules (regular files only, bounded, links kept inside: sources/files.py), and accepted only
when their first bytes say JPEG, PNG, GIF or WebP.

The type comes from the bytes, never from the name: a file called ferry.jpg holding HTML or SVG would
otherwise be published as an image that a browser may run. SVG is refused outright: it is XML that can carry
script. Pixels are never decoded, so a picture's dimensions cost nothing here.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

from syndicator.errors import BadItem
from syndicator.models import MediaFile
from syndicator.sources.files import FileLimits, RefusedFile, read_file, resolve_inside

# (first bytes, extension published); WebP is RIFF....WEBP, checked apart.
_SIGNATURES = (
    (b"\xff\xd8\xff", "jpg"),
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"GIF87a", "gif"),
    (b"GIF89a", "gif"),
)
IMAGE_EXTENSIONS = ("jpg", "png", "gif", "webp")
# What a link in an article's body (<a href>) may lead to besides an image: a PDF, typed by its bytes too. A
# browser shows it in its viewer, never as a page of our site (an HTML file would run as one: refused).
DOCUMENT_EXTENSIONS = ("pdf",)
MISSING = "none"  # the signature of an image file that is not there (see image_signature)


class BadImage(BadItem):
    """An article's image file that is not published; the message says why."""


def is_file_reference(value: str) -> bool:
    """Whether an article's `image` names a file beside it (no scheme, no host) rather than a URL."""
    if not value:
        return False
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    # "C:\\x.jpg" has the scheme "c": a Windows path, which is not a file here and not a URL either; it is
    # left to validation, which drops it as a URL that is not http(s).
    return not parts.scheme and not parts.netloc and not value.startswith("//")


def image_type(data: bytes) -> str:
    """The extension of an image by its first bytes; BadImage when it is not JPEG, PNG, GIF or WebP."""
    if not data:
        raise BadImage("is empty")
    for signature, extension in _SIGNATURES:
        if data.startswith(signature):
            return extension
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    head = data[:2048].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith(b"<") and b"<svg" in head:
        raise BadImage(
            "is an SVG image, which can carry script; not published",
            hint="export it as PNG or JPEG",
        )
    raise BadImage(f"is not a JPEG, PNG, GIF or WebP image (it starts with {data[:8]!r}); not published")


def linked_type(data: bytes) -> str:
    """The extension of a file an article's body links to (<a href>): an image's, or "pdf"; BadImage when it
    is neither."""
    if data.startswith(b"%PDF-"):
        return "pdf"
    try:
        return image_type(data)
    except BadImage as exc:
        if not data:
            raise
        raise BadImage(
            f"is not a JPEG, PNG, GIF or WebP image or a PDF (it starts with {data[:8]!r}); not published",
            hint=exc.hint,
        ) from None


def image_signature(path: Path) -> str:
    """What says an image file changed (size, mtime in ns, inode), or MISSING: taken before it is read, and
    kept in its article's version tag, so a replaced image has its article read again."""
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return MISSING
    return f"{st.st_size:x}-{st.st_mtime_ns:x}-{st.st_ino:x}"


def image_file(
    written: str, article: Path, root: Path, limits: FileLimits, typed: Callable[[bytes], str] = image_type
) -> tuple[MediaFile, Path]:
    """The image an article names by `written` (relative to the article's file), and where it was read;
    BadImage saying why it cannot be published. `typed` decides what the bytes may be (linked_type for a
    link's target)."""
    try:
        path = resolve_inside(root, article.parent, written, limits)
        if not os.path.lexists(path):
            raise BadImage("does not exist", hint="put the image in the drop folder, or fix the path")
        data = read_file(path, root, limits).data
    except RefusedFile as exc:
        raise BadImage(exc.message, hint=exc.hint) from None
    except FileNotFoundError:
        raise BadImage("does not exist", hint="put the image in the drop folder, or fix the path") from None
    except OSError as exc:
        raise BadImage(f"cannot be read: {exc.strerror or exc}") from None
    return MediaFile(data, typed(data)), path
