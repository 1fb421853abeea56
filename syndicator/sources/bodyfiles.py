"""Files an article's body links beside it in a drop folder: `![ferry](images/ferry.png)`, `<img src>`, or
`<a href="report.pdf">`. Each is read like the lead image (sources/images.py: the folder's file rules, typed
by its bytes) and its link rewritten to the media path it is published at (media/<hash>.<ext>), which the
publisher turns into a URL in every output (publish/entries.py).

A relative link that cannot be published (a missing file, a path leaving the folder, a link out of it, bytes
that are no image for an <img>) is a note naming it, and is taken out of the body: an image is dropped, a
link keeps its text. Nothing outside the folder is read, and no body keeps a link that would lead nowhere.
(`srcset` needs nothing here: the sanitizer does not keep it.)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import lxml.etree
import lxml.html

from syndicator.models import MediaFile
from syndicator.sanitize import clean_html
from syndicator.sources.files import FileLimits
from syndicator.sources.images import BadImage, image_file, image_signature, image_type, linked_type

# Attribute values as nh3 writes them (always double-quoted, never holding '"'): a quick look says whether
# a body has any relative link at all before a tree is built.
_LINKS = re.compile(r'\s(?:src|href)="([^"]*)"')


def local_path(url: str) -> str:
    """The path a relative link names (percent-decoded, without query or fragment), or "" when it is not a
    link to a file beside the article: a URL with a scheme or host, or only a fragment or query."""
    value = url.strip()
    try:
        parts = urlsplit(value)
    except ValueError:
        return value  # unparsable, yet relative-looking: refused by name, never left as a link
    if parts.scheme or parts.netloc or value.startswith("//") or not parts.path:
        return ""
    return unquote(parts.path)


def has_local_links(html: str) -> bool:
    """Whether a (sanitized) body has any link or image naming a file by a relative path."""
    return any(local_path(v) for v in _LINKS.findall(html))


def file_links(tree: Any) -> list[tuple[Any, str]]:
    """(element, the attribute naming its target) for every image and link of a body's tree."""
    return [(el, "src") for el in tree.iter("img")] + [(el, "href") for el in tree.iter("a")]


def take_out(element: Any) -> None:
    """Remove a link that would lead nowhere: an image goes (the text after it stays), a link keeps its text."""
    if element.tag == "img":
        element.drop_tree()
    else:
        element.drop_tag()


@dataclass
class BodyFiles:
    """What publishing a body's local links gave: the body, the files, problems, and version-tag parts."""

    html: str
    files: list[MediaFile] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # (the path as written, its signature taken before it was read): a changed file re-reads the article.
    seen: list[tuple[str, str]] = field(default_factory=list)


def _shown(written: str) -> str:
    return repr(written if len(written) <= 200 else written[:200] + "…")


def publish_body_files(html: str, article: Path, root: Path, limits: FileLimits) -> BodyFiles:
    """Read every file the body `html` (sanitized) links by a relative path beside `article`; rewrite each
    link to its media path, or take it out with a note."""
    out = BodyFiles(html)
    if not has_local_links(html):
        return out
    try:
        tree = lxml.html.fragment_fromstring(html, create_parent="div")
    except (lxml.etree.ParserError, ValueError):
        return out  # sanitized HTML parses; if not, has_local_links still guards the publisher
    for element, attribute in file_links(tree):
        value = element.get(attribute, "")
        written = local_path(value)  # the path it names; messages quote the link as written
        if not written:
            continue
        what = "image" if element.tag == "img" else "link to"
        place = article.parent / written if "\0" not in written else article.parent
        signature = image_signature(place)
        try:
            typed = image_type if element.tag == "img" else linked_type
            media, _ = image_file(written, article, root, limits, typed)
        except BadImage as exc:
            out.notes.append(f"body {what} {_shown(value.strip())} {exc}; left out of the published article")
            take_out(element)
            continue
        out.seen.append((written, signature))
        fragment = urlsplit(element.get(attribute, "").strip()).fragment if element.tag == "a" else ""
        element.set(attribute, media.path + (f"#{fragment}" if fragment else ""))
        if media not in out.files:
            out.files.append(media)
    wrapped: str = lxml.html.tostring(tree, encoding="unicode")
    out.html = clean_html(wrapped[len("<div>") : -len("</div>")]).strip()
    return out
