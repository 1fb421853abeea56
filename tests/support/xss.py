"""The XSS oracle: parse a published document the way a browser or a feed reader would, and list every
element, attribute or URL outside the allow-list.

HTML is parsed with html5lib (ElementTree builder: the HTML5 parsing algorithm browsers implement, so markup that only turns
live after a browser's re-parse is caught); XML with lxml. HTML carried inside feeds (Atom/RSS content,
JSON Feed content_html) is parsed as an HTML fragment and held to the content allow-list; every other text
a feed carries (titles, summaries, categories, names: many readers render them as HTML too) must parse as
plain text, with no element at all.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import html5lib
from lxml import etree

XHTML = "{http://www.w3.org/1999/xhtml}"


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


SVG = "{http://www.w3.org/2000/svg}"

# What an entry's content may hold: the sanitizer's tags, and the date line, notice and lead image around them.
CONTENT_ELEMENTS = _words(
    "a abbr b blockquote br caption cite code dd del div dl dt em figcaption figure h1 h2 h3 h4 h5 h6 hr i "
    "img ins li ol p pre q s small span strong sub sup table tbody td tfoot th thead time tr u ul"
)
# The page around it (entry pages, the landing page, the feeds' browser view, the status page).
PAGE_ELEMENTS = CONTENT_ELEMENTS | _words(
    "html head body meta title link header article nav section ol style figure figcaption"
)
SVG_ELEMENTS = _words("svg line text circle polyline")
GLOBAL_ATTRIBUTES = frozenset({"lang", "dir", "title", "class"})
ATTRIBUTES: dict[str, frozenset[str]] = {
    "a": frozenset({"href", "hreflang", "rel", "type"}),
    "img": frozenset({"src", "alt", "width", "height"}),
    "time": frozenset({"datetime"}),
    "td": frozenset({"colspan", "rowspan"}),
    "th": frozenset({"colspan", "rowspan", "scope"}),
    "p": frozenset({"data-engine", "data-model", "data-pivot", "data-reviewed"}),
    "link": frozenset({"rel", "href", "hreflang", "type"}),
    "meta": frozenset({"charset", "name", "content", "http-equiv"}),
    "svg": frozenset({"xmlns", "width", "height", "role", "aria-label"}),
    "line": frozenset({"x1", "y1", "x2", "y2", "stroke"}),
    "text": frozenset({"x", "y", "fill", "text-anchor"}),
    "circle": frozenset({"cx", "cy", "r", "fill"}),
    "polyline": frozenset({"fill", "stroke", "stroke-width", "points"}),
}
URL_ATTRIBUTES = frozenset({"href", "src", "action", "formaction", "cite", "data", "poster", "background"})
SAFE_SCHEMES = frozenset({"http", "https", "mailto"})
# Whitespace and controls a browser ignores inside a URL scheme ("java\tscript:").
_URL_NOISE = re.compile(r"[\x00-\x20\x7f]+")
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):")

# XML documents: elements (local names) and attributes each may hold.
RSS_ELEMENTS = _words(
    "rss channel title link description language lastBuildDate generator item guid pubDate category author "
    "enclosure docs creator publisher encoded archive"
)
ATOM_ELEMENTS = _words(
    "feed id title updated link subtitle author name email generator entry content summary category "
    "published archive"
)
# The styled view's plain-text lines on RSS items and Atom entries (syndicator/publish/feed_view.py).
VIEW_ELEMENTS = _words("date notice")
XML_ATTRIBUTES = frozenset(
    {
        "version",
        "rel",
        "href",
        "type",
        "hreflang",
        "title",
        "term",
        "isPermaLink",
        "url",
        "length",
        "uri",
        "lang",
    }
)
OPML_ELEMENTS = frozenset({"opml", "head", "title", "body", "outline"})
OPML_ATTRIBUTES = frozenset(
    {"version", "text", "title", "language", "type", "xmlUrl", "htmlUrl", "description"}
)
XSL_HTML_ELEMENTS = _words("html head meta title link body p h1 ol li a nav em")
XSL_ATTRIBUTES = frozenset(
    {"version", "exclude-result-prefixes", "method", "encoding", "doctype-system", "indent", "name", "select",
     "match", "test", "lang", "dir", "charset", "content", "rel", "href", "class"}
)  # fmt: skip
# RSS description and content:encoded, Atom content type="html" (feedgen puts the content in an RSS
# description when there is no summary).
HTML_IN_XML = frozenset({"encoded", "content", "description"})
URL_TEXT = frozenset({"link", "guid", "id", "docs", "uri"})
LANGUAGE = re.compile(r"^[A-Za-z]{2,8}(?:[-_][A-Za-z0-9]{1,8})*$")  # BCP 47 shape (and "pt_BR" from config)


def url_problem(value: str) -> str:
    """Why a URL may not be published ("" when it may): a scheme other than http(s)/mailto."""
    match = _SCHEME.match(_URL_NOISE.sub("", value))
    if match and match.group(1).lower() not in SAFE_SCHEMES:
        return f"URL with scheme {match.group(1)!r}: {value[:80]!r}"
    return ""


def _local(tag: Any) -> str:
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def _html_problems(root: Any, elements: frozenset[str], where: str) -> Iterator[str]:
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue  # comments (html5lib keeps them: inert)
        tag = el.tag
        if tag.startswith(SVG):
            name = tag[len(SVG) :]
            if name not in SVG_ELEMENTS:
                yield f"{where}: svg element <{name}>"
        elif tag.startswith(XHTML):
            name = tag[len(XHTML) :]
            if name not in elements:
                yield f"{where}: element <{name}>"
        else:
            name = tag
            yield f"{where}: element <{tag}> outside HTML"
        allowed = GLOBAL_ATTRIBUTES | ATTRIBUTES.get(name, frozenset())
        for attr, value in el.attrib.items():
            local = attr.split("}")[-1]
            if local in ("lang", "hreflang") and not LANGUAGE.match(value):
                yield f"{where}: {local}={value[:60]!r} on <{name}> is no language tag"
            if local.lower().startswith("on"):
                yield f"{where}: event handler {local}= on <{name}>"
            elif local not in allowed:
                yield f"{where}: attribute {local}= on <{name}>"
            if local in URL_ATTRIBUTES and (why := url_problem(value)):
                yield f"{where}: {why} in {local}= of <{name}>"
        if name == "meta" and "refresh" in el.get("http-equiv", "").lower():
            yield f"{where}: meta refresh"


def html_document_problems(data: bytes, where: str, elements: frozenset[str] = PAGE_ELEMENTS) -> list[str]:
    """Problems of a whole HTML page."""
    root = html5lib.parse(data, treebuilder="etree", namespaceHTMLElements=True)
    return list(_html_problems(root, elements, where))


def html_fragment_problems(text: str, where: str) -> list[str]:
    """Problems of HTML carried inside a feed (an entry's content)."""
    problems: list[str] = []
    for node in html5lib.parseFragment(text, treebuilder="etree", namespaceHTMLElements=True):
        problems += _html_problems(node, CONTENT_ELEMENTS, where)
    return problems


def plain_text_problems(text: str, where: str) -> list[str]:
    """Problems of a text a reader may render as HTML: it must hold no element at all."""
    fragment = html5lib.parseFragment(text, treebuilder="etree", namespaceHTMLElements=False)
    elements = [el for node in fragment for el in node.iter() if isinstance(el.tag, str)]
    return [f"{where}: markup in plain text: <{el.tag}> in {text[:80]!r}" for el in elements]


def _xml_problems(data: bytes, where: str, elements: frozenset[str], attributes: frozenset[str]) -> list[str]:
    root = etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True))
    problems: list[str] = []
    for el in root.iter():
        if isinstance(el, etree._ProcessingInstruction):
            continue
        if not isinstance(el.tag, str):
            continue
        name = _local(el.tag)
        if name not in elements:
            problems.append(f"{where}: element <{name}>")
        for attr, value in el.attrib.items():
            local = _local(attr)
            if local in ("lang", "hreflang", "language") and not LANGUAGE.match(value):
                problems.append(f"{where}: {local}={value[:60]!r} on <{name}> is no language tag")
            if local.lower().startswith("on"):
                problems.append(f"{where}: event handler {local}= on <{name}>")
            elif local not in attributes:
                problems.append(f"{where}: attribute {local}= on <{name}>")
            if local in ("href", "url", "xmlUrl", "htmlUrl", "uri") and (why := url_problem(value)):
                problems.append(f"{where}: {why} in {local}= of <{name}>")
            elif local in ("title", "term", "text", "description"):
                problems += plain_text_problems(value, f"{where} <{name} {local}=>")
        text = el.text or ""
        if name in HTML_IN_XML:
            problems += html_fragment_problems(text, f"{where} <{name}>")
        elif name == "language":
            if not LANGUAGE.match(text):
                problems.append(f"{where}: <language>{text[:60]!r} is no language tag")
        elif name in URL_TEXT:
            if why := url_problem(text.strip()):
                problems.append(f"{where}: {why} in <{name}>")
        elif text.strip():
            problems += plain_text_problems(text, f"{where} <{name}>")
    return problems


def feed_problems(data: bytes, where: str) -> list[str]:
    """Problems of an RSS or Atom document."""
    return _xml_problems(data, where, RSS_ELEMENTS | ATOM_ELEMENTS | VIEW_ELEMENTS, XML_ATTRIBUTES)


def json_feed_problems(data: bytes, where: str) -> list[str]:
    """Problems of a JSON Feed document."""
    feed = json.loads(data)
    problems: list[str] = []
    for key in ("home_page_url", "feed_url", "next_url"):
        if why := url_problem(str(feed.get(key, ""))):
            problems.append(f"{where}: {why} in {key}")
    for i, item in enumerate(feed.get("items", [])):
        at = f"{where} item {i}"
        problems += html_fragment_problems(item.get("content_html", ""), f"{at} content_html")
        for key in ("title", "summary"):
            problems += plain_text_problems(item.get(key, ""), f"{at} {key}")
        for tag in item.get("tags", []):
            problems += plain_text_problems(tag, f"{at} tag")
        for author in item.get("authors", []):
            problems += plain_text_problems(author.get("name", ""), f"{at} author")
            if why := url_problem(author.get("url", "")):
                problems.append(f"{at}: {why} in author url")
        for key in ("id", "url", "image", "external_url"):
            if why := url_problem(str(item.get(key, ""))):
                problems.append(f"{at}: {why} in {key}")
        for alt in item.get("_syndicator", {}).get("translations", []):
            if why := url_problem(alt.get("url", "")):
                problems.append(f"{at}: {why} in a translation url")
    return problems


def xsl_problems(data: bytes, where: str) -> list[str]:
    """Problems of the feeds' XSL view: its literal result elements are HTML the browser shows."""
    xsl = "{http://www.w3.org/1999/XSL/Transform}"
    root = etree.fromstring(data)
    problems: list[str] = []
    # Output unescaped only for what feeds.py escaped once more itself: the RSS summary (see feed.xsl).
    # (a list, so lxml keeps handing out the same element proxies while it lives)
    trusted = [
        el
        for el in root.iter(f"{xsl}value-of")
        if el.get("select") == "."
        and any(
            up.tag == f"{xsl}for-each" and up.get("select") == "description[../content:encoded]"
            for up in el.iterancestors()
        )
    ]
    for el in root.iter():
        if not isinstance(el.tag, str) or el.tag.startswith(xsl):
            for attr in el.attrib if isinstance(el.tag, str) else ():
                if _local(attr) == "disable-output-escaping" and any(el is t for t in trusted):
                    continue
                if _local(attr) not in XSL_ATTRIBUTES:
                    problems.append(f"{where}: attribute {attr}= on {el.tag}")
            continue
        name = _local(el.tag)
        if name not in XSL_HTML_ELEMENTS:
            problems.append(f"{where}: element <{name}>")
        for attr, value in el.attrib.items():
            if _local(attr) not in XSL_ATTRIBUTES or _local(attr).lower().startswith("on"):
                problems.append(f"{where}: attribute {attr}= on <{name}>")
            if _local(attr) == "href" and not value.startswith("{") and (why := url_problem(value)):
                problems.append(f"{where}: {why}")
    return problems


def opml_problems(data: bytes, where: str) -> list[str]:
    """Problems of index.opml."""
    return _xml_problems(data, where, OPML_ELEMENTS, OPML_ATTRIBUTES)


def published_problems(relpath: str, data: bytes) -> list[str]:
    """Every problem of one published file, chosen by its name."""
    name = relpath.rsplit("/", 1)[-1]
    if name.endswith(".gz"):
        import gzip

        return published_problems(relpath[:-3], gzip.decompress(data))
    if name.endswith(".html"):
        return html_document_problems(data, relpath, PAGE_ELEMENTS - {"style"})  # no inline style published
    if name in ("rss.xml", "atom.xml"):
        return feed_problems(data, relpath)
    if name == "feed.json":
        return json_feed_problems(data, relpath)
    if name.endswith(".xsl"):
        return xsl_problems(data, relpath)
    if name.endswith(".opml"):
        return opml_problems(data, relpath)
    if name.endswith(".css"):
        text = data.decode("utf-8").lower()
        return [f"{relpath}: active CSS"] if ("expression(" in text or "javascript:" in text) else []
    return [f"{relpath}: a published file of a kind the oracle does not know"]
