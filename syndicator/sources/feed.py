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

from syndicator.config import SourceConfig
from syndicator.errors import BadItem, SourceError
from syndicator.http import Validators
from syndicator.models import ArticleInput, Problem
from syndicator.sanitize import clean_html
from syndicator.sources import SourceContext, read_item, register
from syndicator.sources.extract import parse_html
from syndicator.sources.ids import stable_key
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
    """Bytes → feedparser result; SourceError when it is unsafe or not a feed at all."""
    refuse_xml_attacks(content, origin)
    response_headers = {"content-location": origin}
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


def _moment(entry: Any) -> datetime | None:
    for name in ("published_parsed", "updated_parsed", "created_parsed"):
        value = dict.get(entry, name)  # not entry.get: feedparser maps published→updated with a warning
        if value:
            try:
                return datetime(*tuple(value)[:6]).replace(tzinfo=UTC)
            except (TypeError, ValueError):
                continue
    return None


def _image(entry: Any) -> str:
    for item in list(entry.get("media_content") or []) + list(entry.get("media_thumbnail") or []):
        url = item.get("url", "") if isinstance(item, dict) else ""
        if url and item.get("medium", "image") == "image":
            return str(url)
    for link in entry.get("links") or []:
        if link.get("rel") == "enclosure" and str(link.get("type", "")).startswith("image/"):
            return str(link.get("href", ""))
    return ""


def entry_article(
    entry: Any, cfg: SourceConfig, ctx: SourceContext, origin: str, fallback: datetime
) -> ArticleInput:
    """One feedparser entry → ArticleInput; BadItem saying what is missing."""
    title = _plain(str(entry.get("title") or ""))
    if not title:
        raise BadItem("entry has no title")
    link = str(entry.get("link") or "")
    guid = str(entry.get("id") or "")
    contents = entry.get("content") or []
    summary_raw = str(entry.get("summary") or "")
    body_raw = str(contents[0].get("value") or "") if contents else summary_raw
    body_html = clean_html(body_raw).strip()
    summary = _plain(summary_raw) if contents and summary_raw else ""
    published = _moment(entry)
    language = str(cfg.language)
    if cfg.options.get("detect_language"):
        language = detect_language(f"{title}. {_plain(body_html)}", language, ctx.languages)
    terms = (str(t.get("term") or "").strip() for t in entry.get("tags") or [])
    tags = tuple(t for t in dict.fromkeys(terms) if t)
    return ArticleInput(
        source=cfg.name,
        key=stable_key(guid, link, title),
        language=language,
        title=title[:1000],
        body_html=body_html,
        published=published or fallback,
        summary=summary[:2000],
        author=_plain(str(entry.get("author") or ""))[:300],
        tags=tags,
        image=_image(entry),
        url=link,
        origin=link or f"{origin} ({guid or title[:60]})",
        date_guessed=published is None,
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
        for i, entry in enumerate(parsed.entries):
            # One entry never stops the feed: whatever goes wrong is a Problem naming it.
            read = partial(entry_article, entry, self.cfg, self.ctx, self.url, fallback)
            yield read_item(self.cfg, f"{self.url} entry {i + 1}", read)
        # Only after every entry was handed on (and stored): a crash before this refetches the whole feed.
        self.ctx.pages.save_page_state(
            self.name, self.url, etag=resp.validators.etag, last_modified=resp.validators.last_modified
        )
