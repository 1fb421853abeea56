"""HTML pages (no I/O): one per entry and language, so every feed link opens the article in its language.

Links from a page to what we publish (the other languages' pages, the feeds, the landing page, a lead image
under the feeds' URL) are relative, so a copy of the site previewed on another host (127.0.0.1) stays on that
host; what the standards want absolute stays absolute: the canonical link and the hreflang alternates in the
head (search engines require fully-qualified URLs there). Links to the outside (the original article on its
site) are kept as they are.
"""

from __future__ import annotations

import posixpath

from syndicator.localize import direction, native_name
from syndicator.markup import Markup, render
from syndicator.publish.feeds import FeedEntry

STYLESHEET = "style.css"  # at the root of feeds/: the one stylesheet of every published page
INDEX = "index.html"  # the landing page, at the root of feeds/


def relative_url(url: str, page: str, feeds_url: str) -> str:
    """`url` as seen from the published file at relpath `page`: relative when it is one of ours (under
    `feeds_url`), else unchanged."""
    if not url.startswith(feeds_url):
        return url
    target = url[len(feeds_url) :]
    folder = target == "" or target.endswith("/")  # relpath drops a folder's final slash: put it back
    return posixpath.relpath(target or ".", posixpath.dirname(page) or ".") + ("/" if folder else "")


def to_root(page: str) -> str:
    """The way from the file at relpath `page` up to the root of feeds/ ("" or "../../")."""
    return "../" * page.count("/")


def entry_page(
    entry: FeedEntry,
    content: Markup,
    page: str,
    site_title: str,
    feeds_label: str,
    home_label: str,
    feeds_url: str,
) -> bytes:
    """The standalone page of one entry at relpath `page` (<lang>/<source>/<key>.html), linking its other
    languages, its feed and the landing page.

    `content` (the entry's content with its links made relative to the page) is placed as markup only when
    it is the Markup that EntryBuilder rendered; any other string would be shown as text.
    """
    language = page.split("/", 1)[0]
    root = to_root(page)
    html = render(
        "entry_page.html",
        language=language,
        direction=direction(language),
        title=entry.title,
        site_title=site_title,
        feeds_label=feeds_label,
        home_label=home_label,
        home=root + INDEX,
        feed=relative_url(f"{feeds_url}{language}/atom.xml", page, feeds_url),
        canonical=entry.link,
        alternates=[
            {
                "language": a.language,
                "href": a.href,  # absolute, in the head
                "local": relative_url(a.href, page, feeds_url),  # relative, in the page
                "name": native_name(a.language),
            }
            for a in entry.alternates
        ],
        stylesheet=root + STYLESHEET,
        content=content,
    )
    return html.encode("utf-8")
