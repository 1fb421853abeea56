"""RSS/Atom feed sources: conditional GET through syndicator.http, XML attacks refused, parsed by feedparser."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from functools import partial
from typing import Any

import feedparser
from defusedxml import DefusedXmlException
from defusedxml import ElementTree as SafeET
from feedparser.urls import resolve_relative_uris

from syndicator.config import SourceConfig
from syndicator.errors import BadItem, SourceError
from syndicator.http import Validators
from syndicator.models import ArticleInput, Problem
from syndicator.sanitize import clean_html, safe_url
from syndicator.sources import SourceContext, read_item, register
from syndicator.sources.dates import BadDate, check_date, read_date, unreadable
from syndicator.sources.extract import parse_html
from syndicator.sources.ids import join_url, stable_key
from syndicator.sources.language import detect_language

log = logging.getLogger(__name__)

ACCEPT = "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"
# An internal DTD subset or any entity declaration: the doors of billion-laughs and external entities.
_DANGEROUS = re.compile(rb"<!ENTITY|<!DOCTYPE[^>\[]*\[", re.I)


class UnsafeXml(SourceError):
    """The document declares entities or an internal DTD: refused before any parser sees it."""


def refuse_xml_attacks(content: bytes, origin: str) -> None:
    """Raise UnsafeXml when the bytes declare entities (entity expansion) or external references."""
    texts = [content]
    if content[:2] in (b"\xff\xfe", b"\xfe\xff") or content[:4] in (b"<\x00?\x00", b"\x00<\x00?"):
        # UTF-16 hides the declarations from a byte search.
        for enc in ("utf-16", "utf-16-le", "utf-16-be"):
            try:
                texts.append(content.decode(enc).encode("utf-8"))
                break
            except UnicodeDecodeError:
                continue
    if any(_DANGEROUS.search(t) for t in texts):
        raise UnsafeXml(
            f"{origin}: refused: the document declares XML entities or an internal DTD "
            "(entity expansion or external entities are never processed)",
            hint="a real feed does not need them; ask the publisher to remove the DOCTYPE",
        )
    try:
        SafeET.fromstring(content, forbid_dtd=False, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise UnsafeXml(f"{origin}: refused: {type(exc).__name__}: {exc}") from None
    except Exception:  # not well-formed: feedparser's lenient parser decides, safely
        pass


def parse_feed(content: bytes, origin: str, headers: Mapping[str, str] | None = None) -> Any:
    """Bytes → feedparser result; SourceError when it is unsafe or not a feed at all.

    Nothing is resolved against `origin` (where the feed was fetched): feedparser would make relative ids
    absolute with it, so an upstream that moves host or port would change every entry's identity. Ids stay
    as the document writes them (an `xml:base` it declares still applies: that is the upstream's own
    writing); `entry_article` resolves what readers follow (link, image, body) against the feed URL.
    """
    refuse_xml_attacks(content, origin)
    response_headers = {}
    if headers and headers.get("content-type"):
        response_headers["content-type"] = headers["content-type"]
    # Always bytes: feedparser treats a str as a URL or file name to open.
    try:
        parsed = feedparser.parse(bytes(content), response_headers=response_headers, sanitize_html=False)
    except Exception as exc:  # feedparser crashes on some hostile bytes (e.g. a non-ASCII encoding name)
        raise SourceError(
            f"{origin}: not a readable feed: the parser failed with {type(exc).__name__}: {_short(exc)}",
            hint="open the URL in a browser: it should show RSS or Atom XML",
        ) from None
    if not parsed.entries and (parsed.bozo or not parsed.get("version")):
        reason = parsed.get("bozo_exception") or "no RSS or Atom root element"
        raise SourceError(
            f"{origin}: not a readable feed: {_short(reason)}",
            hint="open the URL in a browser: it should show RSS or Atom XML",
        )
    return parsed


def _short(exc: Any) -> str:
    return " ".join(str(exc).split())[:300] or type(exc).__name__


def _plain(value: str) -> str:
    """Text of a possibly-HTML title."""
    if "<" not in value and "&" not in value:
        return " ".join(value.split())
    return " ".join(parse_html(value).text_content().split())


def _parsed(entry: Any, name: str) -> datetime | None:
    """feedparser's own reading of a date field (in UTC), for the forms only it knows."""
    value = dict.get(entry, f"{name}_parsed")  # not entry.get: feedparser maps published→updated
    if not value:
        return None
    try:
        return datetime(*tuple(value)[:6]).replace(tzinfo=UTC)
    except (TypeError, ValueError):
        return None


def _written(entry: Any, name: str) -> str:
    value = dict.get(entry, name)
    return " ".join(value.split()) if isinstance(value, str) else ""


def _moment(entry: Any, name: str, now: datetime) -> datetime | None:
    """The date an entry writes under `name` (published, updated, created), its own offset kept; None when it
    writes none; BadDate quoting it when it cannot be read or is out of range (sources/dates.py).

    Read from the text, not from feedparser's `*_parsed`: that folds every offset into UTC (an offset of
    "+9900" moves the date by 99 hours), misreads RSS years ("0001" becomes 1400) and drops what it cannot
    convert, which made such an entry look undated and dated "now"."""
    written = _written(entry, name)
    if not written:
        return _parsed(entry, name)
    moment = read_date(written, UTC) or _parsed(entry, name)
    if moment is None:
        raise unreadable(written)
    return check_date(moment, now, written)


def _image(entry: Any, base: str) -> str:
    for item in list(entry.get("media_content") or []) + list(entry.get("media_thumbnail") or []):
        url = item.get("url", "") if isinstance(item, dict) else ""
        if url and item.get("medium", "image") == "image":
            return join_url(base, str(url))
    for link in entry.get("links") or []:
        if link.get("rel") == "enclosure" and str(link.get("type", "")).startswith("image/"):
            return join_url(base, str(link.get("href", "")))
    return ""


def _resolved_html(detail: Any, base: str) -> str:
    """An HTML (or text) value of an entry with its relative URLs made absolute against the feed URL and the
    `xml:base` in effect where it was written (feedparser's own resolver, as it did with a base)."""
    value = str(detail.get("value") or "")
    if not value or "=" not in value:  # no attribute at all: nothing to resolve
        return value
    return str(
        resolve_relative_uris(
            value, join_url(base, str(detail.get("base") or "")), "utf-8", detail.get("type") or "text/html"
        )
    )


def entry_article(
    entry: Any,
    cfg: SourceConfig,
    ctx: SourceContext,
    origin: str,
    fallback: datetime,
    earlier: tuple[str, ...] = (),
) -> ArticleInput:
    """One feedparser entry (of a document parsed by parse_feed) → ArticleInput; BadItem saying what is
    missing. `origin` is the feed's URL: links, images and the body are resolved against it, the id is not.
    `earlier`: URLs the feed was read from before (it moved), for the keys earlier versions made."""
    title = _plain(str(entry.get("title") or ""))
    if not title:
        raise BadItem("entry has no title")
    written_link = str(entry.get("link") or "")
    link = join_url(origin, written_link) if written_link else ""
    guid = str(entry.get("id") or "")
    if entry.get("guidislink") and not safe_url(link):
        # feedparser copies the id into `link` when the entry has none: an id such as "urn:uuid:…" or
        # "tag:…" names the entry, it is no web address, and no link was left out by dropping it.
        link = ""
    contents = entry.get("content") or []
    summary_detail = entry.get("summary_detail") or {"value": entry.get("summary") or ""}
    summary_raw = _resolved_html(summary_detail, origin)
    body_raw = _resolved_html(contents[0], origin) if contents else summary_raw
    body_html = clean_html(body_raw).strip()
    summary = _plain(summary_raw) if contents and summary_raw else ""
    language = str(cfg.language)
    if cfg.options.get("detect_language"):
        language = detect_language(f"{title}. {_plain(body_html)}", language, ctx.languages)
    terms = (str(t.get("term") or "").strip() for t in entry.get("tags") or [])
    tags = tuple(t for t in dict.fromkeys(terms) if t)
    key = stable_key(guid, written_link, title)
    # The keys earlier versions stored: the id and link resolved against the feed's URL, this one or one it
    # was read from before it moved. An article stored under one is found by `key` from its next poll on.
    legacy = (
        stable_key(join_url(base, guid) if guid else "", join_url(base, written_link), title)
        for base in (origin, *earlier)
    )
    # The first date the entry writes is its publication date: one it writes but that cannot be used is a
    # problem (the entry is not stored, as a drop file with such a date is not), never a stand-in "now".
    now = datetime.now(UTC)
    name = next((n for n in ("published", "updated", "created") if _written(entry, n)), "")
    try:
        published = _moment(entry, name, now) if name else None
    except BadDate as exc:
        raise BadItem(f"{exc} (not stored)") from None
    # Only an `updated` besides a publication date is a change; alone, it is the publication date.
    changed: datetime | None = None
    notes: tuple[str, ...] = ()
    if name == "published":
        try:
            changed = _moment(entry, "updated", now)
        except BadDate as exc:  # the entry stands without it, as in sources/validate.py
            notes = (f"modification {exc}; left out",)
    return ArticleInput(
        source=cfg.name,
        key=key,
        aliases=tuple(k for k in dict.fromkeys(legacy) if k != key),
        modified=changed,
        language=language,
        title=title[:1000],
        body_html=body_html,
        published=published or fallback,
        summary=summary[:2000],
        author=_plain(str(entry.get("author") or ""))[:300],
        tags=tags,
        image=_image(entry, origin),
        url=link,
        origin=link or f"{origin} ({guid or title[:60]})",
        date_guessed=published is None,
        dates_written=(_written(entry, name) if name else "", _written(entry, "updated") if changed else ""),
        notes=notes,
    )


@register("feed")
class FeedSource:
    """An RSS or Atom feed on the web."""

    def __init__(self, cfg: SourceConfig, ctx: SourceContext) -> None:
        self.name = cfg.name
        self.cfg = cfg
        self.ctx = ctx
        self.url = str(cfg.options["url"])

    def poll(self) -> Iterator[ArticleInput | Problem]:
        """The feed's entries; nothing when it answers 304. Raises SourceError when it cannot be read."""
        etag, last_modified, _ = self.ctx.pages.page_state(self.name, self.url)
        resp = self.ctx.http.get(self.url, Validators(etag, last_modified), accept=ACCEPT)
        if resp.not_modified:
            log.debug("%s: %s not modified", self.name, self.url)
            return
        parsed = parse_feed(resp.content, resp.url, resp.headers)
        if parsed.bozo:
            yield Problem(
                self.name,
                self.url,
                f"feed is not clean XML ({_short(parsed.bozo_exception)}); read it leniently",
            )
        fallback = datetime.now(UTC).replace(microsecond=0)
        # URLs this source was read from before (page states are kept per URL): where the feed lived before
        # it moved, against which earlier versions resolved its ids.
        earlier = tuple(
            url for url in self.ctx.pages.page_states(self.name) if url not in (self.url, resp.url)
        )
        for i, entry in enumerate(parsed.entries):
            # One entry never stops the feed: whatever goes wrong is a Problem naming it.
            read = partial(entry_article, entry, self.cfg, self.ctx, resp.url, fallback, earlier)
            yield read_item(self.cfg, f"{self.url} entry {i + 1}", read)
        # Only after every entry was handed on (and stored): a crash before this refetches the whole feed.
        self.ctx.pages.save_page_state(
            self.name, self.url, etag=resp.validators.etag, last_modified=resp.validators.last_modified
        )
