"""HTML pages (no I/O): one per entry and language, so every feed link opens the article in its language."""

from __future__ import annotations

from syndicator.localize import direction, native_name
from syndicator.markup import render
from syndicator.publish.feeds import FeedEntry

STYLESHEET = "style.css"  # at the root of feeds/: the one stylesheet of every published page


def entry_page(entry: FeedEntry, language: str, site_title: str, feeds_label: str) -> bytes:
    """A standalone page for one entry (at <lang>/<source>/<key>.html), linking its other languages.

    `entry.content_html` is placed as markup only when it is the Markup that EntryBuilder rendered;
    any other string would be shown as text.
    """
    page = render(
        "entry_page.html",
        language=language,
        direction=direction(language),
        title=entry.title,
        site_title=site_title,
        feeds_label=feeds_label,
        canonical=entry.link,
        alternates=[
            {"language": a.language, "href": a.href, "name": native_name(a.language)}
            for a in entry.alternates
        ],
        stylesheet=f"../../{STYLESHEET}",
        content=entry.content_html,
    )
    return page.encode("utf-8")
