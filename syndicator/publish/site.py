"""Documents at the root of feeds/ (no I/O): index.opml (every feed), index.html (the landing page) and
style.css (the one stylesheet of every published page)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources

from syndicator.localize import Catalogs, direction, native_name
from syndicator.markup import render
from syndicator.publish.feeds import ATOM_FILE, ATOM_TYPE, JSON_FEED_TYPE, JSON_FILE, RSS_FILE, RSS_TYPE
from syndicator.publish.pages import STYLESHEET
from syndicator.sanitize import plain_text

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
    reason: str = ""  # why there are no headlines, in the language (publish/empty.py)


# What index.opml lists: the RSS and Atom feeds. OPML 2.0 has one outline type for subscriptions, "rss", which
# readers take to mean RSS or Atom XML (the spec's subscription lists, the W3C validator's rules); it has none for
# JSON Feed, and a JSON Feed typed "rss" fails readers that import it (newsboat). Typing it "link" would list it
# as a web page, not a feed. So the JSON Feeds are left out: each language's is on the landing page.
OPML_FORMATS = tuple(f for f in FORMATS if f[2] != JSON_FEED_TYPE)


def build_opml(site_title: str, feeds_url: str, site_link: str, listings: Sequence[LanguageListing]) -> bytes:
    """OPML 2.0 listing every RSS and Atom feed of every language, each titled in its own language."""
    groups = []
    for item in listings:
        name = native_name(item.language)
        feeds = [
            {"text": f"{item.title} ({name}, {label})", "url": f"{feeds_url}{item.language}/{file}"}
            for label, file, _media_type in OPML_FORMATS
        ]
        groups.append({"name": name, "language": item.language, "subtitle": item.subtitle, "feeds": feeds})
    return render("index.opml", site_title=site_title, site_link=site_link, groups=groups).encode("utf-8")


def build_index(
    source_language: str,
    site_title: str,
    listings: Sequence[LanguageListing],
    catalogs: Catalogs,
) -> bytes:
    """The landing page: every language by its native name, its subscribe links and latest headlines."""
    feed_links = [
        {
            "media_type": media_type,
            "language": item.language,
            "title": f"{item.title} ({native_name(item.language)})",
            "href": f"{item.language}/{file}",
        }
        for item in listings
        for label, file, media_type in FORMATS
        if label != "JSON Feed"  # autodiscovery is defined for RSS and Atom
    ]
    sections = [
        {
            "language": item.language,
            "direction": direction(item.language),
            "name": native_name(item.language),
            "subtitle": item.subtitle,
            "subscribe": catalogs.gettext(item.language, "Subscribe"),
            "links": [
                {"href": f"{item.language}/{file}", "media_type": media_type, "label": label}
                for label, file, media_type in FORMATS
            ],
            # Titles as every feed shows them: plain text (a title stored before entry validation made it
            # plain may still hold markup).
            "headlines": [{"relpath": h.relpath, "title": plain_text(h.title)} for h in item.headlines],
            "reason": item.reason,
        }
        for item in listings
    ]
    page = render(
        "index.html",
        language=source_language,
        direction=direction(source_language),
        site_title=site_title,
        feed_links=feed_links,
        opml=OPML_FILE,
        stylesheet=STYLESHEET,
        sections=sections,
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
        STYLESHEET: stylesheet(),
    }


def stylesheet() -> bytes:
    """feeds/style.css: the style of every published page and of the feeds' browser view."""
    return resources.files("syndicator").joinpath("templates", STYLESHEET).read_bytes()
