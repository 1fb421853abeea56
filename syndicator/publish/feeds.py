"""Build one language's RSS 2.0, Atom 1.0 and JSON Feed 1.1 documents in memory (no I/O).

Output is deterministic: the same channel and entries give byte-identical documents, because
nothing depends on the clock. The feed-level date (RSS ``lastBuildDate``, Atom feed ``updated``)
is the newest entry ``changed`` (when an entry last changed in this feed: a translation arriving
moves it, while the entry itself keeps the article's own date); a feed without entries omits
``lastBuildDate`` (optional in RSS) and uses ``EMPTY_FEED_UPDATED`` for Atom's required ``updated``. Entries are ordered newest
first by ``published``, ties broken by ``guid``. Machine dates are written in UTC.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parseaddr
from typing import Any, Literal, TypeVar, cast
from urllib.parse import urlsplit

from feedgen.feed import FeedGenerator

from syndicator.markup import text_in_html

from .feed_view import ViewEntryExtension, ViewExtension
from .rss_links import LinksEntryExtension, LinksExtension, alternate_link, unique_alternates

log = logging.getLogger(__name__)

RSS_FILE = "rss.xml"
ATOM_FILE = "atom.xml"
JSON_FILE = "feed.json"

RSS_TYPE = "application/rss+xml"
ATOM_TYPE = "application/atom+xml"
JSON_FEED_TYPE = "application/feed+json"
JSON_FEED_VERSION = "https://jsonfeed.org/version/1.1"

# Atom requires <updated> even on an empty feed; a fixed value keeps the bytes stable.
EMPTY_FEED_UPDATED = datetime(1970, 1, 1, tzinfo=UTC)

_LINKS_EXT = "syndicator_links"
_VIEW_EXT = "syndicator_view"
_Format = Literal["rss", "atom"]
_DIRECTIONS = ("ltr", "rtl")

# A fixed table instead of the mimetypes module, whose answers depend on the host's
# /etc/mime.types and would make the output differ between machines.
_IMAGE_TYPES = {
    ".avif": "image/avif",
    ".bmp": "image/bmp",
    ".gif": "image/gif",
    ".heic": "image/heic",
    ".ico": "image/vnd.microsoft.icon",
    ".jpe": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".jpg": "image/jpeg",
    ".png": "image/png",
    ".svg": "image/svg+xml",
    ".tif": "image/tiff",
    ".tiff": "image/tiff",
    ".webp": "image/webp",
}
_UNKNOWN_TYPE = "application/octet-stream"

# Characters XML 1.0 cannot carry; lxml raises ValueError on them, so one stray control
# character in a translation would otherwise stop the whole feed from being built.
_XML_INVALID = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


@dataclass(frozen=True)
class Alternate:
    """A link to the same entry or feed in another language."""

    language: str  # BCP 47 code, e.g. "fr", "zh"
    href: str
    title: str = ""  # e.g. native language name
    media_type: str = "text/html"


@dataclass(frozen=True)
class FeedEntry:
    """One entry of one language's feed, already localized."""

    guid: str  # stable, unique per language
    link: str  # the entry's web link
    title: str
    summary: str  # plain text
    content_html: str  # full HTML, already localized; may contain dir="rtl"
    published: datetime  # tz-aware
    updated: datetime  # tz-aware: its last significant change, as readers show it
    changed: datetime | None = None  # tz-aware: when it last changed in this feed (default: `updated`)
    author: str = ""
    categories: tuple[str, ...] = ()
    image: str = ""  # lead image URL -> RSS enclosure / Atom link rel=enclosure / JSON image
    alternates: tuple[Alternate, ...] = ()  # the same article in other languages and the original
    # How a translated entry was made (engine, model, pivot, reviewed); JSON Feed's _syndicator.translation.
    provenance: Mapping[str, Any] | None = None
    # Plain-text lines for the styled view, localized (feed_view.py): the date line, the translation notice.
    date_text: str = ""
    notice: str = ""


@dataclass(frozen=True)
class FeedChannel:
    """One language's feed, already localized."""

    language: str
    title: str
    subtitle: str
    site_link: str  # the site's home page
    feed_base: str  # absolute URL of this language's folder, ending in "/"
    author: str  # publisher name (Atom requires an author)
    direction: str = "ltr"  # "rtl" for right-to-left languages
    # This feed in other languages; href = their atom/rss URL, so set media_type to match.
    alternates: tuple[Alternate, ...] = ()
    generator: str = "Syndicator"
    # RFC 5005 archives: page 0 is the current (subscription) document, n >= 1 archive page n (1 = oldest).
    page: int = 0
    prev_page: int = 0  # the next older archive page (0: none)
    next_page: int = 0  # the next newer archive page, on archive pages (0: none, the current feed follows)
    stylesheet: str = ""  # XSL file name in the language folder, for browsers (RSS and Atom)
    hubs: tuple[str, ...] = ()  # WebSub hubs, advertised as rel="hub" beside rel="self"
    # Atom requires `updated` even on a feed with no entries yet; validators flag 1970 as implausible.
    empty_updated: datetime | None = None
    # The Atom feed's id when it must not be its URL (a partner feed's URL carries the partner's token, and
    # ids are copied, shared and logged by readers); "" = the URL of atom.xml.
    feed_id: str = ""


def image_media_type(url: str) -> str:
    """Guess an image's media type from its URL's extension (application/octet-stream if unknown)."""
    path = urlsplit(url).path.lower()
    dot = path.rfind(".")
    if dot < 0 or "/" in path[dot:]:
        return _UNKNOWN_TYPE
    return _IMAGE_TYPES.get(path[dot:], _UNKNOWN_TYPE)


def document_url(channel: FeedChannel, page: int, name: str) -> str:
    """URL of a channel document: the current feed (page 0) or archive page `page`, file `name`."""
    return channel.feed_base + (f"archive/{page}/" if page else "") + name


def _history_links(channel: FeedChannel, name: str, media_type: str) -> list[dict[str, str]]:
    """RFC 5005 links: the current document, the next older and the next newer archive page."""
    links = []
    if channel.page:
        links.append({"rel": "current", "href": channel.feed_base + name, "type": media_type})
    if channel.prev_page:
        links.append(
            {
                "rel": "prev-archive",
                "href": document_url(channel, channel.prev_page, name),
                "type": media_type,
            }
        )
    if channel.page and channel.next_page:
        links.append(
            {
                "rel": "next-archive",
                "href": document_url(channel, channel.next_page, name),
                "type": media_type,
            }
        )
    return links


def build_rss(channel: FeedChannel, entries: Sequence[FeedEntry], *, prepared: bool = False) -> bytes:
    """Return the RSS 2.0 document for a channel and its entries (`prepared`: already through _prepare)."""
    channel, ordered = (channel, list(entries)) if prepared else _prepare(channel, entries)
    fg = _generator(channel, ordered, "rss")
    # RSS requires a non-empty <description>; the title is the least surprising stand-in.
    fg.description(channel.subtitle or channel.title)
    fg.dc.dc_publisher(_publisher(channel))
    getattr(fg, _LINKS_EXT).omit_last_build_date(not ordered)
    data: bytes = fg.rss_str(pretty=True, encoding="UTF-8", xml_declaration=True)
    return data


def build_atom(channel: FeedChannel, entries: Sequence[FeedEntry], *, prepared: bool = False) -> bytes:
    """Return the Atom 1.0 document for a channel and its entries (`prepared`: already through _prepare)."""
    channel, ordered = (channel, list(entries)) if prepared else _prepare(channel, entries)
    fg = _generator(channel, ordered, "atom")
    if channel.subtitle:
        fg.subtitle(channel.subtitle)
    data: bytes = fg.atom_str(pretty=True, encoding="UTF-8", xml_declaration=True)
    return data


def build_json_feed(channel: FeedChannel, entries: Sequence[FeedEntry], *, prepared: bool = False) -> bytes:
    """Return the JSON Feed 1.1 document for a channel and its entries (`prepared`: already through _prepare)."""
    channel, ordered = (channel, list(entries)) if prepared else _prepare(channel, entries)
    feed: dict[str, Any] = {
        "version": JSON_FEED_VERSION,
        "title": channel.title,
        "home_page_url": channel.site_link,
        "feed_url": document_url(channel, channel.page, JSON_FILE),
    }
    if channel.prev_page:
        # JSON Feed paging goes from newer to older documents, like RFC 5005's prev-archive.
        feed["next_url"] = document_url(channel, channel.prev_page, JSON_FILE)
    if channel.subtitle:
        feed["description"] = channel.subtitle
    feed["language"] = channel.language
    feed["authors"] = [{"name": _publisher(channel)}]
    if channel.hubs:
        feed["hubs"] = [{"type": "WebSub", "url": hub} for hub in channel.hubs]
    feed["_syndicator"] = {
        "direction": channel.direction,
        "translations": _json_translations(unique_alternates(channel.alternates, channel.feed_base)),
    }
    if channel.page:
        feed["_syndicator"]["archive"] = {"page": channel.page, "current": channel.feed_base + JSON_FILE}
    feed["items"] = [_json_item(entry) for entry in ordered]
    text = json.dumps(feed, ensure_ascii=False, indent=2) + "\n"
    return text.encode("utf-8")


def build_all(channel: FeedChannel, entries: Sequence[FeedEntry]) -> dict[str, bytes]:
    """Return every feed document of a channel keyed by file name (rss.xml, atom.xml, feed.json)."""
    channel, ordered = _prepare(channel, entries)  # once for the three formats
    return {
        RSS_FILE: build_rss(channel, ordered, prepared=True),
        ATOM_FILE: build_atom(channel, ordered, prepared=True),
        JSON_FILE: build_json_feed(channel, ordered, prepared=True),
    }


def _generator(channel: FeedChannel, entries: Sequence[FeedEntry], fmt: _Format) -> Any:
    """Return a FeedGenerator set up for one format (RSS and Atom need different self links)."""
    fg = FeedGenerator()
    fg.register_extension(_LINKS_EXT, LinksExtension, LinksEntryExtension, atom=True, rss=True)
    fg.register_extension(_VIEW_EXT, ViewExtension, ViewEntryExtension, atom=True, rss=True)
    # dc:creator carries a name-only author in RSS, whose <author> must be an e-mail address;
    # Atom has <author><name> for that, so the extension is off there.
    fg.load_extension("dc", atom=False, rss=True)

    fg.id(channel.feed_id or channel.feed_base + ATOM_FILE)
    fg.title(channel.title)
    fg.language(channel.language)  # RSS <language> and Atom xml:lang
    fg.author({"name": _publisher(channel)})
    fg.generator(channel.generator)
    # feedgen takes the RSS <channel><link> from the last link() call, and writes only the first
    # rel="self" link as atom:link: so self first, site link last.
    name, media_type = (RSS_FILE, RSS_TYPE) if fmt == "rss" else (ATOM_FILE, ATOM_TYPE)
    fg.link(href=document_url(channel, channel.page, name), rel="self", type=media_type)
    fg.link(href=channel.site_link, rel="alternate", type="text/html")
    alternates = unique_alternates(channel.alternates, channel.feed_base)
    hubs = [{"rel": "hub", "href": hub} for hub in channel.hubs] if not channel.page else []
    links = getattr(fg, _LINKS_EXT)
    links.links(
        [*hubs, *(alternate_link(alt) for alt in alternates), *_history_links(channel, name, media_type)]
    )
    links.archive(channel.page > 0)
    if channel.stylesheet:
        links.stylesheet(("../../" if channel.page else "") + channel.stylesheet)
    # Also sets RSS lastBuildDate; feedgen would otherwise use the current time.
    fg.updated(
        max((e.changed or e.updated for e in entries), default=channel.empty_updated or EMPTY_FEED_UPDATED)
    )

    for entry in entries:
        _add_entry(fg, entry, fmt)
    return fg


def _add_entry(fg: Any, entry: FeedEntry, fmt: _Format) -> None:
    """Add one entry to a FeedGenerator."""
    # feedgen prepends by default, which would reverse our order.
    fe = fg.add_entry(order="append")
    fe.id(entry.guid)  # Atom <id>, and RSS <guid isPermaLink="false">
    fe.title(entry.title)
    if entry.summary:
        # Atom <summary type="text">; RSS <description> is HTML to most readers, so the text is escaped
        # once more there and shows as the same text.
        fe.summary(text_in_html(entry.summary) if fmt == "rss" else entry.summary, type="text")
    fe.content(entry.content_html, type="html")  # Atom <content>, RSS <content:encoded>
    fe.published(entry.published)
    fe.updated(entry.updated)

    name, email = _split_author(entry.author)
    if email:
        fe.author(name=name or email, email=email)  # RSS <author>email (name)</author>
    elif name:
        fe.author(name=name)  # Atom only: feedgen writes RSS <author> for e-mails only
        fe.dc.dc_creator(name)

    for term in entry.categories:
        fe.category(term=term)

    links = [alternate_link(alt) for alt in unique_alternates(entry.alternates, entry.guid)]
    if fmt == "rss":
        # link() works for RSS: the only rel="alternate" becomes <item><link>, and an enclosure
        # without length becomes <enclosure length="0">.
        if entry.link:
            fe.link(href=entry.link, rel="alternate", type="text/html")
        if entry.image:
            fe.link(href=entry.image, rel="enclosure", type=image_media_type(entry.image))
    else:
        # feedgen 1.0 drops rel/type of entry links in Atom (see rss_links), so all go here. The entry's
        # own page comes LAST: feedparser and newsboat (2.21, checked by tests/test_readers.py) both take
        # the last rel="alternate" HTML link as the entry's link, so first would open another language.
        if entry.image:
            links.append({"rel": "enclosure", "type": image_media_type(entry.image), "href": entry.image})
        if entry.link:
            links.append({"rel": "alternate", "type": "text/html", "href": entry.link})
    getattr(fe, _LINKS_EXT).links(links)
    getattr(fe, _VIEW_EXT).lines(entry.date_text, entry.notice)


def _json_item(entry: FeedEntry) -> dict[str, Any]:
    """Return one JSON Feed item, leaving out empty optional fields."""
    item: dict[str, Any] = {"id": entry.guid}
    if entry.link:
        item["url"] = entry.link
    item["title"] = entry.title
    if entry.summary:
        item["summary"] = entry.summary
    item["content_html"] = entry.content_html
    item["date_published"] = _rfc3339(entry.published)
    item["date_modified"] = _rfc3339(entry.updated)
    name, email = _split_author(entry.author)
    if email:
        item["authors"] = [{"name": name or email, "url": f"mailto:{email}"}]
    elif name:
        item["authors"] = [{"name": name}]
    if entry.categories:
        item["tags"] = list(entry.categories)
    if entry.image:
        item["image"] = entry.image
    item["_syndicator"] = {
        "translations": _json_translations(unique_alternates(entry.alternates, entry.guid)),
    }
    if entry.provenance is not None:
        item["_syndicator"]["translation"] = dict(entry.provenance)
    return item


def _json_translations(alternates: Sequence[Alternate]) -> list[dict[str, str]]:
    """Return alternates as JSON objects."""
    out = []
    for alt in alternates:
        obj = {"language": alt.language, "url": alt.href, "type": alt.media_type}
        if alt.title:
            obj["title"] = alt.title
        out.append(obj)
    return out


def _rfc3339(value: datetime) -> str:
    """Format a UTC datetime the way feedgen writes Atom dates (isoformat, "+00:00")."""
    return value.isoformat()


def _publisher(channel: FeedChannel) -> str:
    """Return the feed-level author name, which Atom requires."""
    return channel.author or channel.title


def _split_author(author: str) -> tuple[str, str]:
    """Split an author into (name, e-mail); the e-mail is empty unless the text holds one."""
    if "@" in author:
        name, email = parseaddr(author)
        if "@" in email:
            return name, email
    return author, ""


def _prepare(channel: FeedChannel, entries: Sequence[FeedEntry]) -> tuple[FeedChannel, list[FeedEntry]]:
    """Validate, clean and order the inputs; every builder starts here so all formats agree."""
    if not channel.feed_base.endswith("/"):
        raise ValueError(f"feed_base must end with '/': {channel.feed_base!r}")
    if channel.direction not in _DIRECTIONS:
        raise ValueError(f"direction must be one of {_DIRECTIONS}: {channel.direction!r}")
    if not channel.language or not channel.title:
        raise ValueError(f"channel {channel.feed_base} needs a language and a title")
    channel = _clean(channel)

    cleaned: list[FeedEntry] = []
    seen: set[str] = set()
    for entry in entries:
        if not entry.guid or not entry.title:
            raise ValueError(f"entry {entry.guid!r} in {channel.feed_base} needs a guid and a title")
        if entry.guid in seen:
            raise ValueError(f"duplicate entry guid {entry.guid!r} in {channel.feed_base}")
        seen.add(entry.guid)
        entry = _clean(entry)
        cleaned.append(
            dataclasses.replace(
                entry,
                published=_utc(entry.published, entry.guid, "published"),
                updated=_utc(entry.updated, entry.guid, "updated"),
                changed=_utc(entry.changed, entry.guid, "changed") if entry.changed else None,
                # Repeated tags add nothing and would repeat <category> elements.
                categories=tuple(dict.fromkeys(c for c in entry.categories if c)),
            )
        )
    # Two stable sorts: guid ascending, then published descending.
    cleaned.sort(key=lambda e: e.guid)
    cleaned.sort(key=lambda e: e.published, reverse=True)
    return channel, cleaned


def _utc(value: datetime, guid: str, field: str) -> datetime:
    """Return a timezone-aware datetime converted to UTC."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"entry {guid!r}: {field} must be timezone-aware: {value!r}")
    return value.astimezone(UTC)


_T = TypeVar("_T")


def _clean(obj: _T) -> _T:
    """Return a copy of a dataclass with XML-invalid characters removed from its strings."""
    # Returns the very same object when there is nothing to remove: this runs on every entry of every
    # document, and copying all of them would cost more than building the XML.
    if isinstance(obj, str):
        if _XML_INVALID.search(obj) is None:
            return obj
        cleaned = _XML_INVALID.sub("", obj)
        log.warning("removed characters XML cannot carry from %r", cleaned[:80])
        return cast(_T, cleaned)
    if isinstance(obj, tuple):
        items = tuple(_clean(item) for item in obj)
        return obj if all(a is b for a, b in zip(items, obj, strict=True)) else cast(_T, items)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        changes = {}
        for f in dataclasses.fields(obj):
            value = getattr(obj, f.name)
            cleaned_value = _clean(value)
            if cleaned_value is not value:
                changes[f.name] = cleaned_value
        return dataclasses.replace(obj, **changes) if changes else obj
    return obj
