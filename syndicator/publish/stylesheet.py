"""The XSL stylesheet (no I/O) that RSS and Atom documents reference, so a browser shows a readable page.

One file per language (`feeds/<lang>/feed.xsl`), rendered from templates/feed.xsl: its fixed phrases come
from that language's catalog and its page carries the language's `lang`/`dir`. XSLT 1.0, the version
browsers implement; it handles both RSS 2.0 (`/rss/channel`) and Atom (`/atom:feed`) with the same
templates. The page links feeds/style.css (no inline style) and the landing page, and shows each entry's
title, localized date line, translation notice and summary (the first two from feed_view.py's elements).
"""

from __future__ import annotations

import re

from syndicator.localize import Catalogs, direction
from syndicator.markup import render
from syndicator.publish.feed_view import VIEW_NS
from syndicator.publish.pages import STYLESHEET

# Attribute values of literal result elements are XSLT attribute value templates, where "{" starts an
# expression: only a language code goes there, so it is checked to be one.
_CODE = re.compile(r"^[A-Za-z0-9_-]{1,35}\Z")


def build_stylesheet(language: str, catalogs: Catalogs, feed_base: str) -> bytes:
    """The feed.xsl of one language; `feed_base` is the absolute URL of its folder, which the page's links
    into it are made relative to."""
    if not _CODE.match(language):
        raise ValueError(f"not a language code: {language!r}")
    _ = catalogs.gettext
    text = render(
        "feed.xsl",
        language=language,
        direction=direction(language),
        stylesheet=STYLESHEET,
        about=_(
            language,
            "This is a web feed. Copy its address into a news reader to subscribe; new articles then come to you.",
        ),
        older=_(language, "Older articles"),
        all_languages=_(language, "All languages"),  # the link back to the landing page
        view_ns=VIEW_NS,
        feed_base=feed_base,
    )
    return text.encode("utf-8")
