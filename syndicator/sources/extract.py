"""HTML → article fields: trafilatura for the main text and metadata, CSS selectors where a site needs them.

Shared by web pages and `.html` files in the drop folder. No I/O here.
"""

from __future__ import annotations

import codecs
import json
import logging
import re
from collections.abc import Mapping
from copy import deepcopy
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import lxml.etree
import lxml.html
from lxml.cssselect import CSSSelector

from syndicator.errors import BadItem
from syndicator.sanitize import clean_html
from syndicator.sources.dates import BadDate, read_date
from syndicator.sources.ids import join_url, split_url

log = logging.getLogger(__name__)
# trafilatura logs its heuristics' doubts as warnings ("discarding data"): nothing an admin can act on.
logging.getLogger("trafilatura").setLevel(logging.ERROR)

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
_DATE_META = ("article:published_time", "og:published_time", "datePublished", "date", "dc.date", "pubdate")
# Where a page says it was last changed: Open Graph (article:modified_time, og:updated_time), schema.org.
_MODIFIED_META = ("article:modified_time", "og:updated_time", "dateModified", "dcterms.modified")
_SKIP_LINK_EXT = re.compile(r"\.(jpe?g|png|gif|webp|svg|pdf|zip|mp[34]|css|js|xml|rss|atom)\Z", re.I)


class ExtractError(BadItem):
    """The page holds no article we can use; the message says what is missing."""


@dataclass(frozen=True)
class Extracted:
    """What a page says about its article."""

    title: str
    body_html: str
    published: datetime | None
    author: str = ""
    image: str = ""
    language: str = ""  # <html lang>, when present
    modified: datetime | None = None  # when the page says the article last changed
    dates_written: tuple[str, str] = ("", "")  # published and modified as the page writes them
    notes: tuple[str, ...] = ()  # what was wrong but did not stop it (an unusable modification date)


def decode_html(content: bytes, declared: str | None = None) -> str:
    """Bytes → text: valid UTF-8 wins (servers often declare a wrong charset), then the header, then <meta>."""
    if content.startswith(codecs.BOM_UTF8):
        return content[3:].decode("utf-8", "replace")
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        pass
    candidates = [declared]
    match = _META_CHARSET.search(content[:4096])
    if match:
        candidates.append(match.group(1).decode("ascii", "replace"))
    for name in candidates:
        try:
            codec = codecs.lookup(name or "").name
        except LookupError:
            continue
        if codec != "utf-8":  # already tried, and these bytes are not UTF-8 whatever the label says
            return content.decode(codec, "replace")
    return content.decode("cp1252", "replace")


def parse_html(text: str) -> Any:
    """A forgiving lxml tree of a page (empty or junk input gives an empty <html>)."""
    # lxml refuses str input that declares an encoding, and NUL bytes; neither matters for extraction.
    cleaned = re.sub(r"^\s*<\?xml[^>]*>", "", text.replace("\x00", ""))
    try:
        tree = lxml.html.document_fromstring(cleaned or "<html></html>")
    except (lxml.etree.ParserError, ValueError):
        tree = lxml.html.document_fromstring("<html></html>")
    return tree


def _select(tree: Any, css: str) -> list[Any]:
    try:
        return list(CSSSelector(css)(tree))
    except (lxml.etree.XPathError, ValueError) as exc:
        log.debug("selector %r failed: %s", css, exc)
        return []


def _text(el: Any) -> str:
    if isinstance(el, str):
        return " ".join(el.split())
    return " ".join(el.text_content().split())


def parse_date(value: str, tz: ZoneInfo) -> datetime | None:
    """An ISO 8601 or common written date → aware datetime (site time zone when no offset); None if unreadable
    (the page is then dated otherwise), BadDate when its offset is beyond ±14:00 (sources/dates.py)."""
    return read_date(value or "", tz)


def _meta(tree: Any, names: tuple[str, ...], linked: str = "datePublished", any_time: bool = True) -> str:
    """The first date the page states under `names` (<meta>), else (`any_time`) its first <time datetime>,
    else the JSON-LD `linked` property."""
    for name in names:
        for el in tree.xpath("//meta[@property=$n or @name=$n or @itemprop=$n]", n=name):
            content = (el.get("content") or "").strip()
            if content:
                return content
    for el in tree.xpath("//time[@datetime]") if any_time else ():
        return str(el.get("datetime")).strip()
    for script in tree.xpath("//script[@type='application/ld+json']"):
        try:
            data = json.loads(script.text or "")
        except ValueError:
            continue
        for item in data if isinstance(data, list) else [data]:
            if isinstance(item, dict) and isinstance(item.get(linked), str):
                return str(item[linked])
    return ""


def _absolute(element: Any, base: str) -> str:
    """A selected element as HTML, its relative links and images resolved against the page's own URL: a
    reader would resolve them against the entry's page, where no such file is."""
    copy = deepcopy(element)
    if base:
        for el in copy.iter("a", "img"):
            attribute = "src" if el.tag == "img" else "href"
            value = el.get(attribute)
            if value is not None and not value.strip().startswith("#"):
                el.set(attribute, join_url(base, value))
    return str(lxml.html.tostring(copy, encoding="unicode"))


def _selected(tree: Any, selectors: Mapping[str, str], base: str) -> dict[str, str]:
    """Fields the site's CSS selectors find; missing or empty ones are left out."""
    out: dict[str, str] = {}
    for field in ("title", "author"):
        if field in selectors and (found := _select(tree, selectors[field])):
            out[field] = _text(found[0])
    if "date" in selectors and (found := _select(tree, selectors["date"])):
        el = found[0]
        out["date"] = (
            (el.get("datetime") or el.get("content") or _text(el)) if hasattr(el, "get") else _text(el)
        )
    if "image" in selectors and (found := _select(tree, selectors["image"])):
        el = found[0]
        src = (el.get("src") or el.get("content") or el.get("href") or "") if hasattr(el, "get") else ""
        if src:
            out["image"] = join_url(base, src)
    if "body" in selectors and (found := _select(tree, selectors["body"])):
        parts = [_absolute(el, base) for el in found if hasattr(el, "tag")]
        out["body"] = "".join(parts)
    return out


def extract_article(
    text: str, url: str, tz: ZoneInfo, selectors: Mapping[str, str] | None = None
) -> Extracted:
    """The article in a page: selectors first, trafilatura for whatever they do not give."""
    import trafilatura  # imported on first use: it takes half a second

    selectors = selectors or {}
    tree = parse_html(text)
    picked = _selected(tree, selectors, url)
    meta = None
    body = picked.get("body", "")
    if not body:
        try:
            body = (
                trafilatura.extract(
                    lxml.html.tostring(tree, encoding="unicode"),
                    url=url or None,
                    output_format="html",
                    include_formatting=True,
                    include_links=False,
                    include_images=False,
                    include_comments=False,
                    favor_precision=True,
                )
                or ""
            )
        except Exception as exc:  # trafilatura is a heuristic on hostile input: its failure is "no text"
            log.debug("trafilatura failed on %s: %s", url, exc)
            body = ""
    try:
        meta = trafilatura.extract_metadata(tree, default_url=url or None)
    except Exception as exc:  # same: bad metadata is missing metadata
        log.debug("metadata extraction failed on %s: %s", url, exc)
    title = picked.get("title") or (meta.title if meta and meta.title else "")
    if not title:
        heads = tree.xpath("//h1") or tree.xpath("//title")
        title = _text(heads[0]) if heads else ""
    body_html = _strip_title(clean_html(body), title)
    if not title:
        raise ExtractError("no title found (add a 'title' selector for this site)")
    plain = _text(parse_html(body_html)) if body_html else ""
    if not plain:
        raise ExtractError("no article text found (add a 'body' selector for this site)")
    # The first date the page writes that can be read, kept as written for problems (validate.py).
    written = ""
    published = None
    for candidate in (picked.get("date", ""), _meta(tree, _DATE_META), str(meta.date or "") if meta else ""):
        try:
            published = parse_date(candidate, tz)
        except BadDate as exc:
            raise BadDate(f"{exc} (not stored)") from None
        if published is not None:
            written = candidate
            break
    written_modified = _meta(tree, _MODIFIED_META, "dateModified", any_time=False)
    notes: tuple[str, ...] = ()
    try:
        modified = parse_date(written_modified, tz)
    except BadDate as exc:  # the page stands on its publication date, as in validate.py
        modified, notes = None, (f"modification {exc}; left out",)
    image = picked.get("image") or (join_url(url, meta.image) if meta and meta.image else "")
    author = picked.get("author") or (meta.author if meta and meta.author else "")
    return Extracted(
        title=title.strip()[:1000],
        body_html=body_html,
        published=published,
        author=(author or "").strip()[:300],
        image=image if split_url(image).scheme in ("http", "https") else "",
        language=(tree.get("lang") or "").strip(),
        modified=modified,
        dates_written=(written.strip(), written_modified.strip() if modified else ""),
        notes=notes,
    )


def _strip_title(body_html: str, title: str) -> str:
    """Drop a leading heading that repeats the title: feeds show the title already."""
    match = re.match(r"\s*(?:<html>\s*<body>)?\s*<h[12][^>]*>(.*?)</h[12]>", body_html, re.S)
    if match and " ".join(re.sub(r"<[^>]+>", "", match.group(1)).split()) == " ".join(title.split()):
        body_html = body_html[match.end() :]
    body_html = re.sub(r"^\s*<html>\s*<body>|</body>\s*</html>\s*$", "", body_html.strip())
    return body_html.strip()


def find_links(text: str, base: str, selector: str = "") -> list[tuple[str, str]]:
    """Article links on a listing page as (absolute URL, fingerprint text), in page order, without repeats.

    The fingerprint text is what the listing says about the article (its card's text): when it changes,
    the article page is fetched again.
    """
    tree = parse_html(text)
    if selector:
        anchors: list[Any] = []
        for el in _select(tree, selector):
            if not hasattr(el, "tag"):
                continue
            anchors += [el] if el.tag == "a" else el.xpath(".//a[@href]")
    else:
        anchors = _auto_links(tree, base)
    seen: set[str] = set()
    out: list[tuple[str, str]] = []
    base_host = split_url(base).netloc.lower()
    for a in anchors:
        href = (a.get("href") or "").strip()
        if not href or href.startswith(("#", "javascript:", "mailto:")):
            continue
        link = join_url(base, href).split("#", 1)[0]
        parts = split_url(link)
        if parts.scheme not in ("http", "https") or link in seen:
            continue
        if not selector and (parts.netloc.lower() != base_host or _SKIP_LINK_EXT.search(parts.path)):
            continue
        seen.add(link)
        card = next(iter(a.xpath("ancestor::*[self::article or self::li or self::tr][1]")), a)
        out.append((link, _text(card)[:2000]))
    return out


def _auto_links(tree: Any, base: str) -> list[Any]:
    """Likely article links when no selector is configured: those in <article>, <main> or headings."""
    anchors = [
        a
        for a in tree.xpath("//a[@href]")
        if not a.xpath("ancestor::*[self::nav or self::header or self::footer or self::aside]")
    ]
    base_path = split_url(base).path.rstrip("/")
    preferred = [
        a
        for a in anchors
        if a.xpath("ancestor::*[self::article or self::main or self::h1 or self::h2 or self::h3]")
    ]
    chosen = preferred or [
        a
        for a in anchors
        if re.search(r"[-_]|\d", split_url(join_url(base, a.get("href", ""))).path.rsplit("/", 1)[-1])
    ]
    return [a for a in chosen if split_url(join_url(base, a.get("href", ""))).path.rstrip("/") != base_path]
