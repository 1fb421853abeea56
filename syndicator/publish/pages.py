"""HTML pages (no I/O): one per entry and language, so every feed link opens the article in its language."""

from __future__ import annotations

import html

from syndicator.localize import direction, native_name
from syndicator.publish.feeds import FeedEntry

# The inline <style>: serve/headers.py allows exactly this text (a hash in the Content-Security-Policy).
STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:42rem;margin:2rem auto;padding:0 1rem;line-height:1.55}"
    ".meta,.notice{color:#555;font-size:.92rem}nav a{margin-inline-end:.8rem}"
)


def entry_page(entry: FeedEntry, language: str, site_title: str, feeds_label: str) -> bytes:
    """A standalone page for one entry, linking its versions in other languages."""
    esc = html.escape
    links = "".join(
        f'<link rel="alternate" hreflang="{esc(a.language)}" href="{esc(a.href)}">' for a in entry.alternates
    )
    nav = "".join(
        f'<a href="{esc(a.href)}" hreflang="{esc(a.language)}" lang="{esc(a.language)}">{esc(native_name(a.language))}</a>'
        for a in entry.alternates
    )
    page = (
        "<!DOCTYPE html>\n"
        f'<html lang="{esc(language)}" dir="{direction(language)}">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{esc(entry.title)} · {esc(site_title)}</title>\n"
        f'<link rel="canonical" href="{esc(entry.link)}">{links}\n'
        f'<link rel="alternate" type="application/atom+xml" href="../atom.xml">\n'
        f"<style>{STYLE}</style>\n</head>\n<body>\n"
        f'<header><a href="../atom.xml">{esc(site_title)}</a> · {esc(feeds_label)}</header>\n'
        f"<article>\n<h1>{esc(entry.title)}</h1>\n{entry.content_html}\n</article>\n"
        f"<nav>{nav}</nav>\n</body>\n</html>\n"
    )
    return page.encode("utf-8")
