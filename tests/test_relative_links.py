"""Relative links in the HTML of feed and web sources are resolved where they were read, so no published
body keeps a link that a reader would resolve against our entry page (where no such file is).

Feeds: against the entry's xml:base where the feed sets one, else the feed's own URL (Atom's rule, which
feedparser applies); web pages: against the page's own URL, selected bodies included.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from syndicator.config import SourceConfig
from syndicator.sources import SourceContext
from syndicator.sources.extract import extract_article
from syndicator.sources.feed import entry_article, parse_feed

CTX = SourceContext(timezone=ZoneInfo("UTC"), languages=("en",))
FEED = SourceConfig(name="wire", kind="feed", language="en", options={"url": "http://x/"})
BODY = '&lt;p&gt;Text &lt;img src="img/a.png" alt="a"&gt; &lt;a href="../b.pdf"&gt;b&lt;/a&gt; &lt;a href="#n"&gt;n&lt;/a&gt;&lt;/p&gt;'

RSS = f"""<?xml version="1.0"?><rss version="2.0"><channel><title>W</title><link>http://x/</link>
<item><title>One</title><link>http://x/news/2026/one.html</link><guid>1</guid>
<description>{BODY}</description></item></channel></rss>"""
ATOM = f"""<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>W</title><id>w</id>
<updated>2026-03-03T00:00:00Z</updated><entry xml:base="http://cdn.x/posts/one/"><title>One</title><id>1</id>
<updated>2026-03-03T00:00:00Z</updated><link href="http://x/one"/><content type="html">{BODY}</content>
</entry></feed>"""


@pytest.mark.parametrize(
    ("document", "image", "pdf"),
    [
        (RSS, "http://x/news/img/a.png", "http://x/b.pdf"),  # the feed's URL: RSS has no other base
        (ATOM, "http://cdn.x/posts/one/img/a.png", "http://cdn.x/posts/b.pdf"),  # the entry's xml:base
    ],
    ids=["rss", "atom-xml-base"],
)
def test_feed_bodies_hold_no_relative_links(document: str, image: str, pdf: str) -> None:
    parsed = parse_feed(document.encode(), "http://x/news/feed.xml")
    (entry,) = parsed.entries
    item = entry_article(entry, FEED, CTX, "http://x/news/feed.xml", datetime(2026, 3, 3, tzinfo=UTC))
    assert f'src="{image}"' in item.body_html
    assert f'href="{pdf}"' in item.body_html


PAGE = """<html><body><h1>The ferry</h1><div class="story"><p>The new ferry line opens on Monday with
three crossings a day, and the port says more will follow in summer. <img src="img/ferry.png" alt="f">
<a href="/timetables/north.pdf">Timetable</a> <a href="#more">more</a></p></div></body></html>"""


def test_selected_web_bodies_resolve_against_the_page() -> None:
    ex = extract_article(PAGE, "https://port.example/news/ferry.html", ZoneInfo("UTC"), {"body": "div.story"})
    assert 'src="https://port.example/news/img/ferry.png"' in ex.body_html
    assert 'href="https://port.example/timetables/north.pdf"' in ex.body_html
    assert 'href="#more"' in ex.body_html  # the entry page's own anchor
