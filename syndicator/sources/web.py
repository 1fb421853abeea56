"""News web pages without a feed: a listing page links to articles, each extracted from its own page."""

from __future__ import annotations

import email.utils
import hashlib
import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from functools import partial

from syndicator.config import SourceConfig
from syndicator.http import FetchError, Response, Validators
from syndicator.models import ArticleInput, Problem
from syndicator.sources import FIELD_LIMITS, SourceContext, read_item, register
from syndicator.sources.extract import Extracted, decode_html, extract_article, find_links, parse_html
from syndicator.sources.ids import stable_key
from syndicator.sources.language import detect_language

log = logging.getLogger(__name__)

ACCEPT = "text/html, application/xhtml+xml;q=0.9, */*;q=0.5"


def _fingerprint(link: str, card: str) -> str:
    return hashlib.sha256(f"{link}\n{card}".encode("utf-8", "surrogatepass")).hexdigest()


def _header_date(resp: Response) -> datetime | None:
    try:
        value = email.utils.parsedate_to_datetime(resp.headers.get("last-modified", ""))
    except (TypeError, ValueError):
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def page_article(
    ex: Extracted, link: str, resp: Response | None, cfg: SourceConfig, ctx: SourceContext
) -> ArticleInput:
    """Extracted page → ArticleInput (dated by the page, else its Last-Modified, else now as a stand-in)."""
    published = ex.published or (_header_date(resp) if resp is not None else None)
    language = str(cfg.language)
    if cfg.options.get("detect_language"):
        language = detect_language(
            f"{ex.title}. {parse_html(ex.body_html).text_content()}", language, ctx.languages
        )
    return ArticleInput(
        source=cfg.name,
        key=stable_key("", link, ex.title),
        language=language,
        title=ex.title,
        body_html=ex.body_html,
        published=published or datetime.now(UTC).replace(microsecond=0),
        author=ex.author,
        image=ex.image,
        url=link,
        origin=link,
        date_guessed=published is None,
        modified=ex.modified,
        dates_written=ex.dates_written if ex.published else ("", ex.dates_written[1]),
        notes=ex.notes,
    )


@register("web")
class WebSource:
    """A listing page and the article pages it links to; pages already read are not fetched again."""

    def __init__(self, cfg: SourceConfig, ctx: SourceContext) -> None:
        self.name = cfg.name
        self.cfg = cfg
        self.ctx = ctx
        self.url = str(cfg.options["url"])
        self.selectors = dict(cfg.options.get("selectors") or {})

    def _article(self, resp: Response, link: str) -> ArticleInput:
        text = decode_html(resp.content, resp.declared_charset)
        ex = extract_article(text, resp.url, self.ctx.timezone, self.selectors)
        return page_article(ex, link, resp, self.cfg, self.ctx)

    def poll(self) -> Iterator[ArticleInput | Problem]:
        """New or changed articles on the listing; raises SourceError when the listing cannot be read."""
        pages = self.ctx.pages
        etag, last_modified, _ = pages.page_state(self.name, self.url)
        listing = self.ctx.http.get(self.url, Validators(etag, last_modified), accept=ACCEPT)
        if listing.not_modified:
            return
        text = decode_html(listing.content, listing.declared_charset)
        links = find_links(text, listing.url, self.selectors.get("links", ""))
        if not links:
            yield Problem(
                self.name, self.url, "no article links found on the listing page (add a 'links' selector)"
            )
        complete, fetched = True, 0
        for link, card in links:
            if len(link) > FIELD_LIMITS["url"]:
                yield Problem(
                    self.name, f"{link[:200]}…", f"a link of {len(link):,} characters; not followed"
                )
                continue
            fingerprint = _fingerprint(link, card)
            if pages.page_state(self.name, link)[2] == fingerprint:
                continue  # read before, and the listing says the same about it
            if fetched >= self.ctx.max_pages:
                log.info("%s: %d-page limit reached; the rest waits for the next poll", self.name, fetched)
                complete = False
                break
            fetched += 1
            try:
                resp = self.ctx.http.get(link, accept=ACCEPT)
            except FetchError as exc:
                complete = False  # not marked as read: tried again next poll
                yield Problem(self.name, link, exc.reason + (f" (hint: {exc.hint})" if exc.hint else ""))
                continue
            # One page never stops the site; bad input is data: a page that cannot be used is reported
            # once, then left alone until the listing changes.
            yield read_item(self.cfg, link, partial(self._article, resp, link))
            pages.save_page_state(self.name, link, fingerprint=fingerprint)
        if complete:
            # A 304 for the listing is trusted only once every page it links to has been read.
            pages.save_page_state(
                self.name,
                self.url,
                etag=listing.validators.etag,
                last_modified=listing.validators.last_modified,
            )
