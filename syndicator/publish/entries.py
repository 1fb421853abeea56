"""Stored versions → localized feed entries and channels (no I/O): where localization meets publishing."""

from __future__ import annotations

import hashlib
import html
import re
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from syndicator.config import Config
from syndicator.localize import Catalogs, direction, display_date, locale, native_name
from syndicator.models import Article, Translation
from syndicator.publish.feeds import Alternate, FeedChannel, FeedEntry
from syndicator.sanitize import clean_html

_SAFE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,79}$")


def entry_path(article: Article, language: str) -> str:
    """Where an entry's own page lives under feeds/: "<lang>/<source>/<key>.html", stable forever."""
    key = article.key.lower()
    if not _SAFE.match(key) or key != article.key:
        key = hashlib.sha256(article.key.encode("utf-8")).hexdigest()[:20]
    source = (
        article.source
        if _SAFE.match(article.source)
        else hashlib.sha256(article.source.encode()).hexdigest()[:12]
    )
    return f"{language}/{source}/{key}.html"


def provenance(translation: Translation) -> dict[str, Any]:
    """Machine-readable origin of a translation: engine, model version, pivot, reviewed by a human."""
    return {
        "engine": translation.engine,
        "model": translation.model_version,
        "pivot": translation.pivot or None,
        "reviewed": translation.reviewed,
    }


def provenance_attributes(translation: Translation) -> str:
    """The provenance as data- attributes of the notice paragraph."""
    data = provenance(translation)
    attrs = {"engine": data["engine"], "model": data["model"], "pivot": data["pivot"] or "",
             "reviewed": "true" if data["reviewed"] else "false"}  # fmt: skip
    return "".join(f' data-{k}="{html.escape(v)}"' for k, v in attrs.items() if v)


@dataclass(frozen=True)
class Localized:
    """One language version of an article, ready for a feed and a page."""

    article: Article
    language: str
    title: str
    summary: str
    body_html: str  # the text itself, sanitized
    content_html: str  # with date line, notices and links, wrapped with lang/dir
    entry: FeedEntry


class EntryBuilder:
    """Builds localized entries for one instance."""

    def __init__(self, config: Config, catalogs: Catalogs) -> None:
        self.config = config
        self.catalogs = catalogs
        self.tz = ZoneInfo(config.site.timezone)

    def url(self, relpath: str) -> str:
        """Absolute URL of a published file."""
        return self.config.site.feeds_url + relpath

    def site_title(self, language: str) -> str:
        """The site's name in `language`, where the catalog has it."""
        return self.catalogs.gettext(language, self.config.site.title)

    def channel(self, language: str) -> FeedChannel:
        """Feed-level data for one language."""
        _ = self.catalogs.gettext
        site = self.site_title(language)
        others = tuple(
            Alternate(lang, self.url(f"{lang}/atom.xml"), native_name(lang), "application/atom+xml")
            for lang in self.config.languages.all
            if lang != language
        )
        return FeedChannel(
            language=language,
            title=site,
            subtitle=_(
                language,
                "News from %(site)s in %(language)s",
                site=site,
                language=native_name(language, heading=False),
            ),
            site_link=self.config.site.link,
            feed_base=self.url(f"{language}/"),
            author=self.config.site.author or self.config.site.title,
            direction=direction(language),
            alternates=others,
            hubs=self.config.serve.hubs,
        )

    def localize(
        self, article: Article, language: str, translation: Translation | None, available: set[str]
    ) -> Localized:
        """One version of an article as a feed entry; `available` are the languages it can be read in."""
        _ = self.catalogs.gettext
        if translation is None:
            title, summary, body = article.title, article.summary, article.body_html
        else:
            title, summary, body = translation.title, translation.summary, translation.body_html
        body = clean_html(body)
        own_url = self.url(entry_path(article, language))
        original_url = article.url or self.url(entry_path(article, article.language))
        alternates = tuple(
            Alternate(lang, self.url(entry_path(article, lang)), native_name(lang))
            for lang in sorted(available)
            if lang != language
        )
        meta = [
            f'<time datetime="{article.published.isoformat()}">'
            + html.escape(
                _(language, "Published %(date)s", date=display_date(article.published, language, self.tz))
            )
            + "</time>"
        ]
        if article.updated > article.first_seen:
            meta.append(
                html.escape(
                    _(language, "Updated %(date)s", date=display_date(article.updated, language, self.tz))
                )
            )
        parts = [f'<p class="meta">{" · ".join(meta)}</p>']
        if translation is not None:
            source_name = locale(article.language).get_display_name(locale(language)) or article.language
            if translation.reviewed:
                notice = _(language, "Reviewed translation from %(language)s.", language=source_name)
            else:
                notice = _(
                    language, "This article was machine-translated from %(language)s.", language=source_name
                )
            parts.append(
                f'<p class="notice"{provenance_attributes(translation)}><em>{html.escape(notice)}</em> '
                f'<a href="{html.escape(original_url)}" hreflang="{article.language}">'
                f"{html.escape(_(language, 'Read the original'))}</a></p>"
            )
        parts.append(body)
        content = f'<div lang="{language}" dir="{direction(language)}">{"".join(parts)}</div>'
        entry = FeedEntry(
            guid=own_url,
            link=own_url,
            title=title,
            summary=summary,
            content_html=content,
            published=article.published,
            updated=max(article.updated, translation.updated)
            if translation and translation.updated
            else article.updated,
            author=article.author,
            categories=article.tags,
            image=article.image,
            alternates=alternates,
            provenance=provenance(translation) if translation is not None else None,
        )
        return Localized(article, language, title, summary, body, content, entry)
