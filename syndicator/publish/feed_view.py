"""What an RSS item or Atom entry carries for the feed's styled view (feed.xsl) beyond the standard elements.

XSLT 1.0 in a browser can neither format a date for a language (the feed's dates are RFC 822 / RFC 3339 in
UTC; the page shows the site's time zone) nor read the escaped HTML of an entry's content, where the date
line and the machine-translation notice are. So each entry also carries them as plain text, already
localized, in a namespace of our own: `<syn:date>` and `<syn:notice>`. Readers ignore elements of foreign
namespaces (RSS 2.0's extension rule; RFC 4287 section 6.4, which the RELAX NG check in the tests applies).

Written through feedgen's extension mechanism, like rss_links.py: the feed-level class declares the
namespace on the root, the entry-level one appends the elements.
"""

from __future__ import annotations

from typing import Any

from feedgen.ext.base import BaseEntryExtension, BaseExtension
from lxml import etree

VIEW_NS = "urn:syndicator:feed-view:1"
VIEW_PREFIX = "syn"


class ViewExtension(BaseExtension):
    """Feed level: only the namespace declaration, so entries do not repeat it."""

    def extend_ns(self) -> dict[str, str]:
        """Declare our prefix on the root element."""
        return {VIEW_PREFIX: VIEW_NS}

    def extend_rss(self, rss_feed: Any) -> Any:
        """Nothing at feed level."""
        return rss_feed

    def extend_atom(self, atom_feed: Any) -> Any:
        """Nothing at feed level."""
        return atom_feed


class ViewEntryExtension(BaseEntryExtension):
    """Entry level: the localized date line and translation notice."""

    _date = ""
    _notice = ""

    def lines(self, date: str, notice: str) -> None:
        """Set the date line ("Publié le 2 mars 2026") and the notice ("" for an original)."""
        self._date, self._notice = date, notice

    def _append(self, parent: Any) -> Any:
        for name, text in (("date", self._date), ("notice", self._notice)):
            if text:
                etree.SubElement(parent, f"{{{VIEW_NS}}}{name}").text = text
        return parent

    def extend_rss(self, item: Any) -> Any:
        """Append to an RSS <item>."""
        return self._append(item)

    def extend_atom(self, entry: Any) -> Any:
        """Append to an Atom <entry>."""
        return self._append(entry)
