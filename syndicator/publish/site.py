"""Documents at the root of feeds/ (no I/O): index.opml (every feed) and index.html (the landing page)."""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from lxml import etree

from syndicator.localize import Catalogs, direction, native_name
from syndicator.publish.feeds import ATOM_FILE, ATOM_TYPE, JSON_FEED_TYPE, JSON_FILE, RSS_FILE, RSS_TYPE

OPML_FILE = "index.opml"
INDEX_FILE = "index.html"
HEADLINES = 5  # latest headlines per language on the landing page

# (label, file, media type): the order readers are offered the formats in.
FORMATS = (
    ("RSS", RSS_FILE, RSS_TYPE),
    ("Atom", ATOM_FILE, ATOM_TYPE),
    ("JSON Feed", JSON_FILE, JSON_FEED_TYPE),
)


@dataclass(frozen=True)
class Headline:
    """One latest entry of a language, for the landing page."""

    title: str
    relpath: str  # entry page under feeds/


@dataclass(frozen=True)
class LanguageListing:
    """What the root documents say about one language."""

    language: str
    title: str  # the feed title in that language
    subtitle: str
    headlines: Sequence[Headline] = ()


def build_opml(site_title: str, feeds_url: str, site_link: str, listings: Sequence[LanguageListing]) -> bytes:
    """OPML 2.0 listing every feed of every language, each titled in its own language."""
    root = etree.Element("opml", version="2.0")
    head = etree.SubElement(root, "head")
    etree.SubElement(head, "title").text = site_title
    body = etree.SubElement(root, "body")
    for item in listings:
        name = native_name(item.language)
        folder = etree.SubElement(body, "outline", text=name, title=name, language=item.language)
        for label, file, _media_type in FORMATS:
            text = f"{item.title} ({name}, {label})"
            etree.SubElement(
                folder,
                "outline",
                type="rss",  # OPML's type for every subscription, whatever the format
                text=text,
                title=text,
                xmlUrl=f"{feeds_url}{item.language}/{file}",
                htmlUrl=site_link,
                language=item.language,
                description=item.subtitle,
            )
    data: bytes = etree.tostring(root, pretty_print=True, encoding="UTF-8", xml_declaration=True)
    return data


# The inline <style>: serve/headers.py allows exactly this text (a hash in the Content-Security-Policy).
STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:48rem;margin:2rem auto;padding:0 1rem;line-height:1.5}"
    "section{border-top:1px solid #ccd;padding:.5rem 0}.subscribe a{margin-inline-end:.8rem}"
)


def build_index(
    source_language: str,
    site_title: str,
    listings: Sequence[LanguageListing],
    catalogs: Catalogs,
) -> bytes:
    """The landing page: every language by its native name, its subscribe links and latest headlines."""
    esc = html.escape
    head_links = "".join(
        f'<link rel="alternate" type="{media_type}" hreflang="{esc(item.language)}" '
        f'title="{esc(item.title)} ({esc(native_name(item.language))})" href="{esc(item.language)}/{file}">\n'
        for item in listings
        for label, file, media_type in FORMATS
        if label != "JSON Feed"  # autodiscovery is defined for RSS and Atom
    )
    sections = []
    for item in listings:
        lang = esc(item.language)
        subscribe = catalogs.gettext(item.language, "Subscribe")
        links = " ".join(f'<a href="{lang}/{file}" type="{t}">{esc(label)}</a>' for label, file, t in FORMATS)
        headlines = "".join(f'<li><a href="{esc(h.relpath)}">{esc(h.title)}</a></li>' for h in item.headlines)
        sections.append(
            f'<section lang="{lang}" dir="{direction(item.language)}">\n'
            f"<h2>{esc(native_name(item.language))}</h2>\n<p>{esc(item.subtitle)}</p>\n"
            f'<p class="subscribe">{esc(subscribe)}: {links}</p>\n'
            + (f"<ul>{headlines}</ul>\n" if headlines else "")
            + "</section>\n"
        )
    page = (
        "<!DOCTYPE html>\n"
        f'<html lang="{esc(source_language)}" dir="{direction(source_language)}">\n<head>\n'
        '<meta charset="utf-8">\n<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{esc(site_title)}</title>\n{head_links}"
        f'<link rel="alternate" type="text/x-opml" href="{OPML_FILE}">\n'
        f"<style>{STYLE}</style>\n</head>\n<body>\n<h1>{esc(site_title)}</h1>\n"
        + "".join(sections)
        + f'<p><a href="{OPML_FILE}">OPML</a></p>\n</body>\n</html>\n'
    )
    return page.encode("utf-8")


def root_files(
    source_language: str,
    site_title: str,
    feeds_url: str,
    site_link: str,
    listings: Sequence[LanguageListing],
    catalogs: Catalogs,
) -> Mapping[str, bytes]:
    """Every root document by file name."""
    return {
        OPML_FILE: build_opml(site_title, feeds_url, site_link, listings),
        INDEX_FILE: build_index(source_language, site_title, listings, catalogs),
    }
