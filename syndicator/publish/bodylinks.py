"""Links in a stored body to files Syndicator publishes itself (media/<hash>.<ext>, sources/bodyfiles.py)
made into URLs: absolute in feeds, relative on the entry's own page, as the lead image's are.

A body stored before such links were published, or edited by hand, may still hold a relative link to a file
beside its article: no published file answers it, so it is taken out here (an image dropped, a link keeping
its text) rather than published as a link that leads nowhere.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

import lxml.etree
import lxml.html

from syndicator.publish.media import is_media_file
from syndicator.sources.bodyfiles import file_links, has_local_links, local_path, take_out

# A src or href as nh3 writes it (double-quoted, never holding '"'; bodies are sanitized before they are
# placed) holding one of our media paths, with a fragment for a link ("report.pdf#page=2").
_MEDIA_LINK = re.compile(r'(\s(?:src|href)=")(media/[0-9a-f]+\.[a-z]+)((?:#[^"]*)?")')


def body_media(htmls: Iterable[str]) -> set[str]:
    """The media paths these bodies link."""
    return {m.group(2) for html in htmls for m in _MEDIA_LINK.finditer(html) if is_media_file(m.group(2))}


def linked_body(html: str, url: Callable[[str], str]) -> str:
    """A sanitized body with each media path replaced by `url(path)` (already safe in an attribute: a URL
    built from the configured feeds_url, escaped by the caller's rule) and other relative file links taken
    out."""
    if has_local_links(_MEDIA_LINK.sub("", html)):
        html = _without_local_links(html)
    return _MEDIA_LINK.sub(
        lambda m: m.group(1) + url(m.group(2)) + m.group(3) if is_media_file(m.group(2)) else m.group(0), html
    )


def _without_local_links(html: str) -> str:
    try:
        tree = lxml.html.fragment_fromstring(html, create_parent="div")
    except (lxml.etree.ParserError, ValueError):
        return html
    for element, attribute in file_links(tree):
        path = local_path(element.get(attribute, ""))
        if path and not is_media_file(path):
            take_out(element)
    wrapped: str = lxml.html.tostring(tree, encoding="unicode")
    return wrapped[len("<div>") : -len("</div>")]
