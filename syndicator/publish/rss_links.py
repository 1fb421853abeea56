"""feedgen extensions writing the link elements feedgen 1.0 cannot write itself.

- RSS: feedgen's RSS writer keeps only the first ``rel="self"`` link of a channel and drops
  every other ``atom:link``, and on an item each ``rel="alternate"`` link overwrites ``<link>``;
  so the hreflang alternates of channels and items are added here as ``atom:link``.
- Atom entries: ``FeedEntry.atom_entry()`` rebinds its loop variable to the new element
  (``for link in ...: link = xml_elem('link', ...)``), so every ``rel``/``type``/``hreflang``
  given to ``FeedEntry.link()`` is lost and an enclosure comes out as a bare alternate link.
  Atom entry links are therefore all written here. (Feed-level Atom links are not affected.)

The feed-level extension also writes two things feedgen has no setter for: the
``<?xml-stylesheet?>`` processing instruction (so a browser renders the feed with our XSL instead of
showing raw XML) and RFC 5005's ``<fh:archive/>`` marker on archive documents.

They go through feedgen's own extension mechanism (``register_extension``), which hands us the
lxml trees to extend; no string post-editing.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from feedgen.ext.base import BaseEntryExtension, BaseExtension
from lxml import etree

from syndicator.markup import attributes

if TYPE_CHECKING:
    from .feeds import Alternate

log = logging.getLogger(__name__)

ATOM_NS = "http://www.w3.org/2005/Atom"
# feedgen builds Atom trees from un-namespaced elements and writes xmlns="..." as a plain
# attribute on <feed>, so our Atom elements must be un-namespaced too: a namespaced
# {ATOM_NS}link would be serialized with a generated "ns0:" prefix.
_ATOM_LINK = "link"
FH_NS = "http://purl.org/syndication/history/1.0"  # RFC 5005 feed history
_RSS_ATOM_LINK = f"{{{ATOM_NS}}}link"

LinkAttrs = Mapping[str, str]


def unique_alternates(alternates: Iterable[Alternate], context: str) -> list[Alternate]:
    """Drop alternates that are incomplete or repeat a (media type, language) pair, keeping the first."""
    # RFC 4287 4.1.1: no two rel="alternate" links with the same type and hreflang.
    seen: set[tuple[str, str]] = set()
    kept: list[Alternate] = []
    for alt in alternates:
        if not alt.language or not alt.href:
            log.warning("%s: alternate without language or href dropped: %r", context, alt)
            continue
        key = (alt.media_type.lower(), alt.language.lower())
        if key in seen:
            log.warning("%s: duplicate alternate for %s %s dropped: %s", context, *key, alt.href)
            continue
        seen.add(key)
        kept.append(alt)
    return kept


def alternate_link(alt: Alternate) -> dict[str, str]:
    """Return the link attributes of an hreflang alternate."""
    attrs = {"rel": "alternate", "hreflang": alt.language, "href": alt.href, "type": alt.media_type}
    if alt.title:
        attrs["title"] = alt.title
    return attrs


class _LinksMixin:
    """Holds link attribute sets and appends them to an RSS or Atom element."""

    _links: tuple[dict[str, str], ...] = ()

    def links(self, links: Iterable[LinkAttrs] | None = None) -> tuple[dict[str, str], ...]:
        """Get or replace the links to write, in order."""
        if links is not None:
            self._links = tuple(dict(attrs) for attrs in links)
        return self._links

    def extend_ns(self) -> dict[str, str]:
        """Declare no namespace: feedgen's RSS root already maps "atom", and Atom uses the default."""
        return {}

    def _append(self, parent: Any, tag: str) -> None:
        for attrs in self._links:
            etree.SubElement(parent, tag, attrs)

    def _insert_before_rss_link(self, parent: Any) -> None:
        # feedparser (and readers built on it) take the LAST rel="alternate" HTML link as the
        # entry's link; placed before <link>, the hreflang alternates cannot override it.
        anchor = parent.find("link")
        if anchor is None:
            self._append(parent, _RSS_ATOM_LINK)
            return
        index = list(parent).index(anchor)
        for offset, attrs in enumerate(self._links):
            parent.insert(index + offset, etree.Element(_RSS_ATOM_LINK, attrs))


class LinksExtension(_LinksMixin, BaseExtension):
    """Feed-level extension: extra channel links, an RSS lastBuildDate that can be left out, the XSL
    processing instruction and the RFC 5005 archive marker."""

    _omit_last_build_date = False
    _stylesheet = ""
    _archive = False

    def stylesheet(self, href: str | None = None) -> str:
        """Get or set the XSL stylesheet href written as <?xml-stylesheet?> ("" for none)."""
        if href is not None:
            self._stylesheet = href
        return self._stylesheet

    def archive(self, is_archive: bool | None = None) -> bool:
        """Get or set whether this document is an RFC 5005 archive document (<fh:archive/>)."""
        if is_archive is not None:
            self._archive = is_archive
        return self._archive

    def _document_extras(self, root: Any, parent: Any) -> None:
        if self._archive:
            etree.SubElement(parent, f"{{{FH_NS}}}archive", nsmap={"fh": FH_NS})
        if self._stylesheet:
            # A sibling before the root element: feedgen serializes the whole tree, so it lands after the
            # XML declaration.
            root.addprevious(
                etree.ProcessingInstruction(
                    "xml-stylesheet", attributes({"type": "text/xsl", "href": self._stylesheet})
                )
            )

    def omit_last_build_date(self, omit: bool | None = None) -> bool:
        """Get or set whether the RSS channel drops <lastBuildDate> (feedgen always writes one)."""
        if omit is not None:
            self._omit_last_build_date = omit
        return self._omit_last_build_date

    def extend_rss(self, rss_feed: Any) -> Any:
        """Add the links to the RSS <channel> as atom:link."""
        channel = rss_feed.find("channel")
        if self._omit_last_build_date:
            # feedgen defaults lastBuildDate to "now" and offers no way to unset it.
            for node in channel.findall("lastBuildDate"):
                channel.remove(node)
        self._insert_before_rss_link(channel)
        self._document_extras(rss_feed, channel)
        return rss_feed

    def extend_atom(self, atom_feed: Any) -> Any:
        """Add the links to the Atom <feed>."""
        self._append(atom_feed, _ATOM_LINK)
        self._document_extras(atom_feed, atom_feed)
        return atom_feed


class LinksEntryExtension(_LinksMixin, BaseEntryExtension):
    """Entry-level extension: extra item/entry links."""

    def extend_rss(self, item: Any) -> Any:
        """Add the links to an RSS <item> as atom:link."""
        self._insert_before_rss_link(item)
        return item

    def extend_atom(self, entry: Any) -> Any:
        """Add the links to an Atom <entry>."""
        self._append(entry, _ATOM_LINK)
        return entry
